"""Link metrics: Hits@K and MRR through OGB's link Evaluator, ROC-AUC through scikit-learn."""

from __future__ import annotations

from functools import cache

import torch
from sklearn.metrics import roc_auc_score
from torch import Tensor

HITS_K = (10, 20, 50, 100)


@cache
def _evaluator(name: str):
    from ogb.linkproppred import Evaluator

    return Evaluator(name)


def hits_at_k(pos: Tensor, neg: Tensor, k: int) -> float:
    """Share of positives scored above the ``k``-th best negative (OGB's definition)."""
    ev = _evaluator("ogbl-collab")
    ev.K = k
    return float(ev.eval({"y_pred_pos": pos.cpu(), "y_pred_neg": neg.cpu()})[f"hits@{k}"])


def mrr(pos: Tensor, neg: Tensor, max_pairs: int = 1 << 24) -> float:
    """Mean reciprocal rank of each positive among the shared negatives (OGB citation2 rule).
    ``pos`` and ``neg`` are flat; every positive is ranked against every negative."""
    ev = _evaluator("ogbl-citation2")
    step = max(1, max_pairs // max(neg.numel(), 1))
    ranks = [
        ev.eval(
            {
                "y_pred_pos": pos[a : a + step].cpu(),
                "y_pred_neg": neg.cpu().unsqueeze(0).expand(pos[a : a + step].numel(), -1),
            }
        )["mrr_list"]
        for a in range(0, pos.numel(), step)
    ]
    return float(torch.cat(ranks).mean())


def link_metrics(pos: Tensor, neg: Tensor) -> dict[str, float]:
    if pos.numel() == 0 or neg.numel() == 0:
        raise ValueError("link metrics need at least one positive and one negative score")
    out = {f"hits@{k}": hits_at_k(pos, neg, k) for k in HITS_K}
    out["mrr"] = mrr(pos, neg)
    y = torch.cat([torch.ones(pos.numel(), device="cpu"), torch.zeros(neg.numel(), device="cpu")])
    out["rocauc"] = float(roc_auc_score(y.numpy(), torch.cat([pos, neg]).float().cpu().numpy()))
    return out
