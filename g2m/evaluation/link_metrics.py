"""Link metrics: Hits@K through OGB's link Evaluator, MRR by its rule (sorted, for shared negatives),
ROC-AUC through scikit-learn."""

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


def mrr(pos: Tensor, neg: Tensor) -> float:
    r"""Mean reciprocal rank of each positive among the shared negatives, by OGB's citation2 rule:
    rank :math:`= 1 + \tfrac12(|\{n: s_n > s_p\}| + |\{n: s_n \ge s_p\}|)` (ties count half).

    Every positive is ranked against every negative, but the negatives are sorted once and each
    positive's two counts found by binary search: :math:`O((P + Q)\log Q)` instead of OGB's
    ``[P, Q]`` comparison (500,000 positives and negatives: seconds instead of minutes to hours).
    Equal to OGB's ``Evaluator("ogbl-citation2")`` on ``neg`` broadcast to every positive (tested).

    Example:
        >>> round(mrr(torch.tensor([3.0, 1.0]), torch.tensor([2.0, 1.0, 0.0])), 4)  # ranks 1 and 2.5
        0.7
    """
    sorted_neg = neg.detach().cpu().double().sort().values
    p = pos.detach().cpu().double()
    q = sorted_neg.numel()
    above = q - torch.searchsorted(sorted_neg, p, right=True)  # negatives scored higher
    at_least = q - torch.searchsorted(sorted_neg, p, right=False)  # negatives scored higher or equal
    ranks = 0.5 * (above + at_least).double() + 1.0
    return float((1.0 / ranks).mean())


def link_metrics(pos: Tensor, neg: Tensor) -> dict[str, float]:
    if pos.numel() == 0 or neg.numel() == 0:
        raise ValueError("link metrics need at least one positive and one negative score")
    out = {f"hits@{k}": hits_at_k(pos, neg, k) for k in HITS_K}
    out["mrr"] = mrr(pos, neg)
    y = torch.cat([torch.ones(pos.numel(), device="cpu"), torch.zeros(neg.numel(), device="cpu")])
    out["rocauc"] = float(roc_auc_score(y.numpy(), torch.cat([pos, neg]).float().cpu().numpy()))
    return out
