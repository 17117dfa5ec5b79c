"""End-to-end experiments: dataset -> split -> teacher (cached) -> students -> report."""

from g2m._lazy import lazy_exports

__all__ = [
    "LinkExperiment",
    "NodeExperiment",
    "get_link_teacher",
    "get_node_teacher",
    "run_link_experiment",
    "run_node_experiment",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "LinkExperiment": "g2m.experiments.link",
        "get_link_teacher": "g2m.experiments.link",
        "run_link_experiment": "g2m.experiments.link",
        "NodeExperiment": "g2m.experiments.node",
        "get_node_teacher": "g2m.experiments.teachers",
        "run_node_experiment": "g2m.experiments.node",
    },
)
