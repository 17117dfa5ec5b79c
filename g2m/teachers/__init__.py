"""GNN teachers (PyG) and their training loops."""

from g2m._lazy import lazy_exports

__all__ = ["GNN", "TEACHERS", "build_teacher"]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "GNN": "g2m.teachers.models",
        "build_teacher": "g2m.teachers.models",
        "TEACHERS": "g2m.methods",
    },
)
