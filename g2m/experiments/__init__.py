"""End-to-end experiments: dataset -> split -> teacher (cached) -> students -> report."""

from g2m.experiments.node import NodeExperiment, get_node_teacher, run_node_experiment

__all__ = ["NodeExperiment", "get_node_teacher", "run_node_experiment"]
