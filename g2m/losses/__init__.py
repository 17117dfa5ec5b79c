"""Distillation losses: pure functions of tensors and an edge index."""

from g2m.losses.node import hfd_loss, kd_loss, label_ce, lfd_loss
from g2m.losses.objectives import NODE_METHODS, node_objective

__all__ = ["NODE_METHODS", "hfd_loss", "kd_loss", "label_ce", "lfd_loss", "node_objective"]
