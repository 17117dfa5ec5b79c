"""End-to-end experiments: dataset -> split -> teacher (cached) -> students -> report."""

from g2m.experiments.link import LinkExperiment, get_link_teacher, run_link_experiment
from g2m.experiments.node import NodeExperiment, get_node_teacher, run_node_experiment

__all__ = [
    "LinkExperiment",
    "NodeExperiment",
    "get_link_teacher",
    "get_node_teacher",
    "run_link_experiment",
    "run_node_experiment",
]
