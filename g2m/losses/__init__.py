"""Distillation losses: pure functions of tensors and an edge index."""

from g2m._lazy import lazy_exports

__all__ = ["NODE_METHODS", "hfd_loss", "kd_loss", "label_ce", "lfd_loss", "node_objective"]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "hfd_loss": "g2m.losses.node",
        "kd_loss": "g2m.losses.node",
        "label_ce": "g2m.losses.node",
        "lfd_loss": "g2m.losses.node",
        "node_objective": "g2m.losses.objectives",
        "NODE_METHODS": "g2m.methods",
    },
)
