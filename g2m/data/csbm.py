r"""Contextual stochastic block model (CSBM), vectorised to millions of nodes.

Nodes get balanced labels :math:`y_i \in \{0..C-1\}`. Each of the
:math:`N d / 2` undirected edges picks a uniform source :math:`i`; with
probability :math:`h` (the edge homophily) its target is uniform in class
:math:`y_i`, otherwise uniform in one of the other classes. Features are
:math:`x_i = s\,\mu_{y_i} + \varepsilon_i` with random class means
:math:`\mu_c` of norm 1 and :math:`\varepsilon_i \sim \mathcal{N}(0, I)`:
noise has unit variance along every direction, so ``feature_signal`` :math:`s`
is a signal-to-noise ratio independent of the dimension ``F``.

Two options give the graph ogbn-products' harder shape (both off by default, which keeps the
balanced, Poisson-degree model and its random stream unchanged):

* ``class_imbalance`` :math:`z`: class :math:`c` (in a seeded order) gets a share
  :math:`\propto (c + 1)^{-z}` of the nodes (Zipf); a plain MLP leans on the large classes;
* ``degree_exponent`` :math:`\gamma > 2`: node :math:`i` gets a weight
  :math:`w_i = u_i^{-1/(\gamma-1)}`, :math:`u_i \sim U(0, 1]` (a Pareto tail with exponent
  :math:`\gamma`, as in Chung-Lu graphs), and both ends of an edge are drawn in proportion to
  :math:`w` (the target within its chosen class), so degrees follow
  :math:`P(d) \propto d^{-\gamma}` with mean ``avg_degree``: most nodes have few neighbours,
  and those are the nodes a GNN cannot help much.
"""

from __future__ import annotations

import torch
from torch import Tensor

from g2m.data.graph import Graph, make_graph
from g2m.errors import InvalidGraphError


def csbm_tensors(
    num_nodes: int = 3000,
    num_classes: int = 5,
    avg_degree: float = 10.0,
    homophily: float = 0.8,
    feature_signal: float = 1.0,
    num_features: int = 64,
    seed: int = 0,
    class_imbalance: float = 0.0,
    degree_exponent: float | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Return ``(x, y, edge_index)``; ``edge_index`` is one direction per edge.

    Args:
        num_nodes: :math:`N`. num_classes: :math:`C`. avg_degree: :math:`d` (edge ends per node).
        homophily: :math:`h`, the share of edges inside a class. feature_signal: :math:`s`.
        num_features: :math:`F`. seed: the one seed of every draw.
        class_imbalance: Zipf exponent :math:`z \geq 0` of the class sizes (0: balanced).
        degree_exponent: power-law exponent :math:`\gamma > 2` of the degrees (None: Poisson).
    """
    if num_nodes < 2 * num_classes:
        raise InvalidGraphError(f"csbm: need at least 2 nodes per class, got {num_nodes} nodes")
    if num_classes < 2:
        raise InvalidGraphError("csbm: num_classes must be at least 2")
    if not 0.0 <= homophily <= 1.0:
        raise InvalidGraphError(f"csbm: homophily must be in [0, 1], got {homophily}")
    if avg_degree <= 0:
        raise InvalidGraphError(f"csbm: avg_degree must be positive, got {avg_degree}")
    if class_imbalance < 0:
        raise InvalidGraphError(f"csbm: class_imbalance must be non-negative, got {class_imbalance}")
    if degree_exponent is not None and degree_exponent <= 2:
        raise InvalidGraphError(f"csbm: degree_exponent must be above 2 (a finite mean degree), got {degree_exponent}")
    gen = torch.Generator(device="cpu").manual_seed(seed)

    # Labels (balanced, or Zipf shares), then nodes grouped by class so a class is a contiguous range.
    if class_imbalance == 0:
        y = torch.arange(num_nodes, device="cpu") % num_classes
    else:
        y = _zipf_labels(num_nodes, num_classes, class_imbalance, gen)
    y = y[torch.randperm(num_nodes, generator=gen, device="cpu")]
    by_class = torch.argsort(y, stable=True)
    class_size = torch.bincount(y, minlength=num_classes)
    class_start = torch.cumsum(class_size, 0) - class_size

    num_pairs = int(round(num_nodes * avg_degree / 2))
    weight_cdf = None
    if degree_exponent is None:
        src = torch.randint(num_nodes, (num_pairs,), generator=gen, device="cpu")
    else:  # Chung-Lu weights, laid out by class: a class's nodes are one range of the CDF
        u = 1.0 - torch.rand(num_nodes, generator=gen, device="cpu", dtype=torch.float64)
        weight_cdf = torch.cumsum(u.pow(-1.0 / (degree_exponent - 1.0))[by_class], 0)
        at = torch.rand(num_pairs, generator=gen, device="cpu", dtype=torch.float64) * weight_cdf[-1]
        src = by_class[torch.searchsorted(weight_cdf, at).clamp_(max=num_nodes - 1)]
    same = torch.rand(num_pairs, generator=gen, device="cpu") < homophily
    shift = torch.randint(1, num_classes, (num_pairs,), generator=gen, device="cpu")
    dst_class = torch.where(same, y[src], (y[src] + shift) % num_classes)
    if weight_cdf is None:
        offset = (torch.rand(num_pairs, generator=gen, device="cpu") * class_size[dst_class]).long()
    else:  # in proportion to the weights inside the target's class
        lo = torch.cat([weight_cdf.new_zeros(1), weight_cdf])[class_start[dst_class]]
        hi = weight_cdf[class_start[dst_class] + class_size[dst_class] - 1]
        at = lo + torch.rand(num_pairs, generator=gen, device="cpu", dtype=torch.float64) * (hi - lo)
        offset = torch.searchsorted(weight_cdf, at) - class_start[dst_class]
        offset = torch.minimum(offset.clamp_(min=0), class_size[dst_class] - 1)
    dst = by_class[class_start[dst_class] + offset]
    del same, shift, dst_class, offset

    means = torch.randn(num_classes, num_features, generator=gen, device="cpu")
    means = means / means.norm(dim=1, keepdim=True)
    x = torch.randn(num_nodes, num_features, generator=gen, device="cpu")
    x.add_(feature_signal * means[y])
    return x, y, torch.stack([src, dst])


def _zipf_labels(num_nodes: int, num_classes: int, exponent: float, gen: torch.Generator) -> Tensor:
    r"""Labels with class :math:`c`'s share :math:`\propto (c+1)^{-z}` (largest remainder rounding),
    every class at least 2 nodes, the class order shuffled so that class 0 is not always the largest."""
    share = torch.arange(1, num_classes + 1, device="cpu", dtype=torch.float64).pow(-exponent)
    share = share / share.sum()
    spare = num_nodes - 2 * num_classes
    size = 2 + (share * spare).floor().long()
    left = num_nodes - int(size.sum())
    size[torch.argsort(share * spare - (share * spare).floor(), descending=True)[:left]] += 1
    size = size[torch.randperm(num_classes, generator=gen, device="cpu")]
    return torch.repeat_interleave(torch.arange(num_classes, device="cpu"), size)


#: ogbn-products in shape: ~25 neighbours per node, 100 features, 47 classes, homophily ~0.8
PRODUCTS_LIKE = {"avg_degree": 25.0, "num_features": 100, "num_classes": 47, "homophily": 0.8, "feature_signal": 1.0}


def products_like_graph(num_nodes: int, seed: int = 0, **overrides: float) -> Graph:
    """A CSBM graph with ogbn-products' degree, width and class count (``overrides``
    replace any of :data:`PRODUCTS_LIKE`)."""
    params = {**PRODUCTS_LIKE, **overrides}
    x, y, edge_index = csbm_tensors(num_nodes=num_nodes, seed=seed, **params)  # type: ignore[arg-type]
    return make_graph(f"csbm-products-{num_nodes}", x, y, edge_index, int(params["num_classes"]))
