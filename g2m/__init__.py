"""g2m: distil Graph Neural Network teachers into MLP students.

Imports flow one way, from the data up to the command line; a module imports only the layers
below its own (import-linter's contract in ``pyproject.toml``, run by ``make test``). Top down::

    g2m.cli          the ``g2m`` command line (Typer)
    g2m.benchmarks   speed and accuracy benchmarks
    g2m.transforms   PyG transforms: a teacher's outputs, DeepWalk positions
    g2m.api          distill / distill_link / export for a PyG user's own data and model
    g2m.experiments  multi-seed node and link runs, tuning, merging, OGB leaderboard entries
    g2m.training     teacher and student training loops, checkpoints
    g2m.cache        on-disk teacher outputs, keyed and hashed
    g2m.nn | g2m.teachers | g2m.students
                     loss modules for your own loop | PyG GNN teachers | MLP students
    g2m.losses       distillation losses as pure tensor functions
    g2m.evaluation   metrics, results files, reports, paired comparisons
    g2m.config       typed options of teachers and students
    g2m.data         graphs, datasets, splits, samplers
    g2m.ops | g2m.device | g2m.distributed | g2m.locks | g2m.layers | g2m.files
                     scatter/gather, devices, processes, file locks, MLP layers, atomic writes
    g2m.methods | g2m.errors | g2m.optional
                     the names of methods and options, the errors, optional packages
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
        "graph_from_data": "g2m.data.graph",
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
