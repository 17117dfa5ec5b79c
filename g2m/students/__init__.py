"""Students: plain MLPs that never look at the graph at inference time."""

from g2m.students.mlp import MLP

__all__ = ["MLP"]
