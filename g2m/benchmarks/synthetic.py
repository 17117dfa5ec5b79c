"""Products-like synthetic graphs for the speed and scale benchmarks."""

from __future__ import annotations

from g2m.data.csbm import csbm_tensors
from g2m.data.graph import Graph, make_graph

# ogbn-products in shape: ~25 neighbours per node, 100 features, 47 classes, homophily ~0.8
PRODUCTS_LIKE = {"avg_degree": 25.0, "num_features": 100, "num_classes": 47, "homophily": 0.8, "feature_signal": 1.0}


def products_like_graph(num_nodes: int, seed: int = 0, **overrides: float) -> Graph:
    """A CSBM graph with ogbn-products' degree, width and class count (``overrides``
    replace any of :data:`PRODUCTS_LIKE`)."""
    params = {**PRODUCTS_LIKE, **overrides}
    x, y, edge_index = csbm_tensors(num_nodes=num_nodes, seed=seed, **params)  # type: ignore[arg-type]
    return make_graph(f"csbm-products-{num_nodes}", x, y, edge_index, int(params["num_classes"]))
