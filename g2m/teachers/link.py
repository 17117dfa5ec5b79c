r"""Link prediction models: an encoder (GNN teacher or MLP student) and a scorer.

Scorers map two node embeddings to a logit:
``dot``: :math:`h_u^\top h_v`; ``mlp``: :math:`\mathrm{MLP}(h_u \odot h_v)` (one hidden
layer, with ``dropout`` after its ReLU while training, as LLP's predictor).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from g2m.layers import threshold_dropout

SCORERS = ("dot", "mlp")


class LinkScorer(nn.Module):
    def __init__(self, kind: str, dim: int, hidden: int | None = None, dropout: float = 0.0) -> None:
        super().__init__()
        if kind not in SCORERS:
            raise ValueError(f"unknown scorer {kind!r}; choose one of {SCORERS}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"scorer dropout must be in [0, 1), got {dropout}")
        self.kind, self.dim, self.dropout = kind, dim, dropout
        self.hidden = hidden or dim
        self.mlp = (
            nn.Sequential(nn.Linear(dim, self.hidden), nn.ReLU(), nn.Linear(self.hidden, 1)) if kind == "mlp" else None
        )

    def forward(self, h_u: Tensor, h_v: Tensor, dropout: float | None = None) -> Tensor:
        """Scores of the pairs ``(h_u[k], h_v[k])``. ``dropout``: a rate applied even in
        eval mode (None: the scorer's own rate, in training mode only)."""
        if self.mlp is None:
            return (h_u * h_v).sum(-1)
        rate, active = (self.dropout, self.training) if dropout is None else (dropout, dropout > 0)
        # in place: the linear layer's backward does not read its output (saves a [pairs, hidden] pass)
        hidden = threshold_dropout(torch.relu_(self.mlp[0](h_u * h_v)), rate, active)
        return self.mlp[2](hidden).squeeze(-1)

    def score_pairs(self, h: Tensor, pairs: Tensor, dropout: float | None = None) -> Tensor:
        """Scores of ``pairs`` (``[2, K]``) from node embeddings ``h``."""
        return self(h[pairs[0]], h[pairs[1]], dropout)


def score_in_batches(scorer: LinkScorer, h: Tensor, pairs: Tensor, batch: int = 1 << 16) -> Tensor:
    with torch.no_grad():
        return (
            torch.cat([scorer.score_pairs(h, pairs[:, a : a + batch]) for a in range(0, pairs.size(1), batch)])
            if pairs.size(1)
            else h.new_zeros(0)
        )
