"""Metrics, computed with OGB's Evaluator so numbers compare with the leaderboards."""

from __future__ import annotations

from functools import lru_cache

import torch
from torch import Tensor

NODE_METRICS = ("accuracy", "rocauc")


@lru_cache(maxsize=None)
def _node_evaluator(metric: str):
    from ogb.nodeproppred import Evaluator

    # ogbn-arxiv's evaluator computes accuracy, ogbn-proteins' ROC-AUC.
    return Evaluator("ogbn-arxiv" if metric == "accuracy" else "ogbn-proteins")


def node_metric(logits: Tensor, y: Tensor, metric: str = "accuracy") -> float:
    """Accuracy of ``argmax`` or (binary tasks) ROC-AUC of the class-1 probability."""
    if metric not in NODE_METRICS:
        raise ValueError(f"unknown node metric {metric!r}; choose one of {NODE_METRICS}")
    if logits.size(0) == 0:
        raise ValueError("cannot evaluate on an empty node set")
    y_true = y.view(-1, 1).cpu()
    if metric == "accuracy":
        y_pred = logits.argmax(-1, keepdim=True).cpu()
        return float(_node_evaluator(metric).eval({"y_true": y_true, "y_pred": y_pred})["acc"])
    if logits.size(1) != 2:
        raise ValueError(f"rocauc needs a binary task, got {logits.size(1)} classes")
    score = torch.softmax(logits.float(), -1)[:, 1:].cpu()
    return float(_node_evaluator(metric).eval({"y_true": y_true, "y_pred": score})["rocauc"])
