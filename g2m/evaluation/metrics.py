"""Node metrics. Accuracy goes through OGB's Evaluator (``ogbn-arxiv``'s, so numbers
compare with the leaderboards); binary ROC-AUC through scikit-learn's
``roc_auc_score``, which is what OGB's ``ogbn-proteins`` Evaluator calls per task
(that Evaluator itself insists on proteins' 112 tasks, so it cannot score one)."""

from __future__ import annotations

from functools import cache

from torch import Tensor

from g2m.data.graph import Graph
from g2m.data.splits import NodeSplit

NODE_METRICS = ("accuracy", "rocauc")


@cache
def _accuracy_evaluator():
    from ogb.nodeproppred import Evaluator

    return Evaluator("ogbn-arxiv")


def binary_rocauc(score: Tensor, y: Tensor) -> float:
    """ROC-AUC of ``score`` (higher means class 1) against binary labels ``y``."""
    from sklearn.metrics import roc_auc_score

    y = y.view(-1).cpu()
    if y.numel() and not bool(((y == 0) | (y == 1)).all()):
        raise ValueError("rocauc needs labels in {0, 1}")
    if y.unique().numel() < 2:
        raise ValueError(f"rocauc is undefined on a node set with a single class ({y.numel()} nodes)")
    return float(roc_auc_score(y.numpy(), score.detach().view(-1).float().cpu().numpy()))


def node_metric(logits: Tensor, y: Tensor, metric: str = "accuracy") -> float:
    """Accuracy of ``argmax`` or (binary tasks) ROC-AUC of the class-1 logit margin."""
    if metric not in NODE_METRICS:
        raise ValueError(f"unknown node metric {metric!r}; choose one of {NODE_METRICS}")
    if logits.size(0) == 0:
        raise ValueError("cannot evaluate on an empty node set")
    if metric == "accuracy":
        y_pred = logits.argmax(-1, keepdim=True).cpu()
        return float(_accuracy_evaluator().eval({"y_true": y.view(-1, 1).cpu(), "y_pred": y_pred})["acc"])
    if logits.size(1) != 2:
        raise ValueError(f"rocauc needs a binary task, got {logits.size(1)} classes")
    # softmax(l)[1] is monotone in l1 - l0: same ranking, no saturation to ties at 1.0
    return binary_rocauc(logits[:, 1] - logits[:, 0], y)


def node_scores(logits: Tensor, graph: Graph, split: NodeSplit, metric: str) -> dict[str, float]:
    """Scores of full-graph-indexed ``logits`` on the split's evaluation sets."""
    y = graph.require_labels()
    scores = {
        "val": node_metric(logits[split.val], y[split.val], metric),
        "test": node_metric(logits[split.test], y[split.test], metric),
    }
    if split.test_ind.numel():
        scores["test_ind"] = node_metric(logits[split.test_ind], y[split.test_ind], metric)
    return scores
