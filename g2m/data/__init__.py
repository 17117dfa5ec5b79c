"""Datasets, graphs and splits."""

from g2m.data.graph import Graph, edge_homophily, make_graph
from g2m.data.link_splits import LinkSplit, make_link_split, sample_negatives
from g2m.data.registry import dataset_location, list_datasets, load_dataset
from g2m.data.root import default_data_root, resolve_data_root
from g2m.data.specs import DatasetSpec, get_spec, load_specs
from g2m.data.splits import NodeSplit, make_node_split

__all__ = [
    "DatasetSpec",
    "Graph",
    "LinkSplit",
    "NodeSplit",
    "dataset_location",
    "default_data_root",
    "edge_homophily",
    "get_spec",
    "list_datasets",
    "load_dataset",
    "load_specs",
    "make_graph",
    "make_link_split",
    "make_node_split",
    "resolve_data_root",
    "sample_negatives",
]
