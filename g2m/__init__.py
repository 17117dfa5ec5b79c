"""g2m: distil Graph Neural Network teachers into MLP students.

The package is layered the way data flows through it::

    g2m.data       datasets, splits (node and link, transductive and inductive)
    g2m.teachers   PyG GNN teachers and their training loops
    g2m.cache      on-disk teacher outputs, keyed and hashed
    g2m.ops        scatter/gather primitives (torch-scatter or native PyTorch)
    g2m.losses     distillation losses as pure tensor functions
    g2m.students   MLP students
    g2m.training   student training (distillation) loops
    g2m.evaluation metrics and multi-seed reporting
    g2m.cli        the ``g2m`` command line
"""

__version__ = "0.1.0"

from g2m._lazy import lazy_exports

_getattr, _dir = lazy_exports(
    __name__,
    {
        "distill": "g2m.api",
        "export": "g2m.api",
        "DistillResult": "g2m.api",
        "distill_link": "g2m.api",
        "LinkDistillResult": "g2m.api",
        "graph_from_data": "g2m.api",
        "resolve_device": "g2m.device",
    },
)
#: subpackages imported on first access (``g2m.nn.FFG2MLoss``, ``g2m.transforms.AddTeacherOutputs``)
_SUBMODULES = ("nn", "transforms")


def __getattr__(name: str):
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    return _getattr(name)


def __dir__() -> list[str]:
    return sorted([*_dir(), *_SUBMODULES])


__all__ = [
    "distill",
    "distill_link",
    "export",
    "DistillResult",
    "graph_from_data",
    "resolve_device",
    "nn",
    "transforms",
    "__version__",
]
