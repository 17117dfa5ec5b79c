r"""Link prediction models: an encoder (GNN teacher or MLP student) and a scorer.

Scorers map two node embeddings to a logit:
``dot``: :math:`h_u^\top h_v`; ``mlp``: :math:`\mathrm{MLP}(h_u \odot h_v)`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

SCORERS = ("dot", "mlp")


class LinkScorer(nn.Module):
    def __init__(self, kind: str, dim: int, hidden: int | None = None) -> None:
        super().__init__()
        if kind not in SCORERS:
            raise ValueError(f"unknown scorer {kind!r}; choose one of {SCORERS}")
        self.kind, self.dim = kind, dim
        self.hidden = hidden or dim
        self.mlp = (
            nn.Sequential(nn.Linear(dim, self.hidden), nn.ReLU(), nn.Linear(self.hidden, 1))
            if kind == "mlp" else None
        )

    def forward(self, h_u: Tensor, h_v: Tensor) -> Tensor:
        if self.mlp is None:
            return (h_u * h_v).sum(-1)
        return self.mlp(h_u * h_v).squeeze(-1)

    def score_pairs(self, h: Tensor, pairs: Tensor) -> Tensor:
        """Scores of ``pairs`` (``[2, K]``) from node embeddings ``h``."""
        return self(h[pairs[0]], h[pairs[1]])


def score_in_batches(scorer: LinkScorer, h: Tensor, pairs: Tensor, batch: int = 1 << 16) -> Tensor:
    with torch.no_grad():
        return torch.cat([scorer.score_pairs(h, pairs[:, a:a + batch]) for a in range(0, pairs.size(1), batch)]) \
            if pairs.size(1) else h.new_zeros(0)
