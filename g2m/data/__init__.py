"""Datasets, graphs and splits."""

from g2m._lazy import lazy_exports

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
    "ogb_split_edge",
    "resolve_data_root",
    "sample_negatives",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Graph": "g2m.data.graph",
        "edge_homophily": "g2m.data.graph",
        "make_graph": "g2m.data.graph",
        "LinkSplit": "g2m.data.link_splits",
        "make_link_split": "g2m.data.link_splits",
        "ogb_split_edge": "g2m.data.link_splits",
        "sample_negatives": "g2m.data.link_splits",
        "dataset_location": "g2m.data.registry",
        "list_datasets": "g2m.data.registry",
        "load_dataset": "g2m.data.registry",
        "default_data_root": "g2m.data.root",
        "resolve_data_root": "g2m.data.root",
        "DatasetSpec": "g2m.data.specs",
        "get_spec": "g2m.data.specs",
        "load_specs": "g2m.data.specs",
        "NodeSplit": "g2m.data.splits",
        "make_node_split": "g2m.data.splits",
    },
)
