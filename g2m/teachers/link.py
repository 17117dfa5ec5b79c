r"""Link prediction models: an encoder (GNN teacher or MLP student) and a scorer
(:class:`g2m.layers.LinkScorer`, shared with the students), and scoring pairs in batches."""

from __future__ import annotations

import torch
from torch import Tensor

from g2m.layers import SCORERS, LinkScorer

__all__ = ["SCORERS", "LinkScorer", "score_in_batches"]


def score_in_batches(scorer: LinkScorer, h: Tensor, pairs: Tensor, batch: int = 1 << 16) -> Tensor:
    with torch.no_grad():
        return (
            torch.cat([scorer.score_pairs(h, pairs[:, a : a + batch]) for a in range(0, pairs.size(1), batch)])
            if pairs.size(1)
            else h.new_zeros(0)
        )
