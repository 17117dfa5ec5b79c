r"""Contextual stochastic block model (CSBM), vectorised to millions of nodes.

Nodes get balanced labels :math:`y_i \in \{0..C-1\}`. Each of the
:math:`N d / 2` undirected edges picks a uniform source :math:`i`; with
probability :math:`h` (the edge homophily) its target is uniform in class
:math:`y_i`, otherwise uniform in one of the other classes. Features are
:math:`x_i = s\,\mu_{y_i} + \varepsilon_i` with random class means
:math:`\mu_c` of norm 1 and :math:`\varepsilon_i \sim \mathcal{N}(0, I)`:
noise has unit variance along every direction, so ``feature_signal`` :math:`s`
is a signal-to-noise ratio independent of the dimension ``F``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from g2m.errors import InvalidGraphError


def csbm_tensors(
    num_nodes: int = 3000,
    num_classes: int = 5,
    avg_degree: float = 10.0,
    homophily: float = 0.8,
    feature_signal: float = 1.0,
    num_features: int = 64,
    seed: int = 0,
) -> tuple[Tensor, Tensor, Tensor]:
    """Return ``(x, y, edge_index)``; ``edge_index`` is one direction per edge."""
    if num_nodes < 2 * num_classes:
        raise InvalidGraphError(f"csbm: need at least 2 nodes per class, got {num_nodes} nodes")
    if num_classes < 2:
        raise InvalidGraphError("csbm: num_classes must be at least 2")
    if not 0.0 <= homophily <= 1.0:
        raise InvalidGraphError(f"csbm: homophily must be in [0, 1], got {homophily}")
    if avg_degree <= 0:
        raise InvalidGraphError(f"csbm: avg_degree must be positive, got {avg_degree}")
    gen = torch.Generator(device="cpu").manual_seed(seed)

    # Balanced labels, then nodes grouped by class so a class is a contiguous range.
    y = torch.arange(num_nodes, device="cpu") % num_classes
    y = y[torch.randperm(num_nodes, generator=gen, device="cpu")]
    by_class = torch.argsort(y, stable=True)
    class_size = torch.bincount(y, minlength=num_classes)
    class_start = torch.cumsum(class_size, 0) - class_size

    num_pairs = int(round(num_nodes * avg_degree / 2))
    src = torch.randint(num_nodes, (num_pairs,), generator=gen, device="cpu")
    same = torch.rand(num_pairs, generator=gen, device="cpu") < homophily
    shift = torch.randint(1, num_classes, (num_pairs,), generator=gen, device="cpu")
    dst_class = torch.where(same, y[src], (y[src] + shift) % num_classes)
    offset = (torch.rand(num_pairs, generator=gen, device="cpu") * class_size[dst_class]).long()
    dst = by_class[class_start[dst_class] + offset]
    del same, shift, dst_class, offset

    means = torch.randn(num_classes, num_features, generator=gen, device="cpu")
    means = means / means.norm(dim=1, keepdim=True)
    x = torch.randn(num_nodes, num_features, generator=gen, device="cpu")
    x.add_(feature_signal * means[y])
    return x, y, torch.stack([src, dst])
