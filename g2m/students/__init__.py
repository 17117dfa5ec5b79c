"""Students: plain MLPs that never look at the graph at inference time."""

from g2m._lazy import lazy_exports

__all__ = ["MLP"]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "MLP": "g2m.students.mlp",
    },
)
