"""The in-memory graph every part of g2m works on."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor
from torch_geometric.utils import coalesce, is_undirected, remove_self_loops, to_undirected

from g2m.errors import DataWarning, InvalidGraphError

#: entries of each tensor a :meth:`Graph.fingerprint` reads (evenly spaced: 8 MiB of float32 at most)
FINGERPRINT_SAMPLES = 1 << 21


@dataclass
class Graph:
    """A node-feature graph.

    ``edge_index`` is undirected (both directions stored), coalesced and free of
    self-loops, so ``num_edges`` counts each undirected edge twice, as PyG does.
    ``masks`` holds the dataset's own split masks (``train``/``val``/``test``),
    either ``[N]`` or ``[N, S]`` for ``S`` fixed splits. ``link_split`` holds
    official link-prediction edges (OGB) when the dataset has them.
    """

    name: str
    x: Tensor
    y: Tensor | None
    edge_index: Tensor
    num_classes: int
    raw_num_edges: int
    masks: dict[str, Tensor] = field(default_factory=dict)
    link_split: dict[str, Tensor] | None = None

    @property
    def num_nodes(self) -> int:
        return self.x.size(0)

    @property
    def num_edges(self) -> int:
        return self.edge_index.size(1)

    @property
    def num_features(self) -> int:
        return self.x.size(1)

    def fingerprint(self) -> str:
        """A short hash of the graph's content: shapes, and up to :data:`FINGERPRINT_SAMPLES`
        evenly spaced entries each of the features, labels and edges (every entry of a graph
        that small). Cache keys carry it, so that a dataset whose spec or file changed under
        the same name never reuses a teacher trained on the old graph."""
        import hashlib

        h = hashlib.sha256()
        for t in (self.x, self.y, self.edge_index):
            if t is None:
                h.update(b"none|")
                continue
            flat = t.detach().reshape(-1)
            step = max(1, flat.numel() // FINGERPRINT_SAMPLES)
            h.update(f"{tuple(t.shape)}{t.dtype}|".encode())
            h.update(flat[::step].cpu().contiguous().numpy().tobytes())
        return h.hexdigest()[:12]

    def to(self, device: torch.device | str) -> Graph:
        """This graph with its tensors (features, labels, edges, masks) on ``device``."""
        return Graph(
            self.name,
            self.x.to(device),
            None if self.y is None else self.y.to(device),
            self.edge_index.to(device),
            self.num_classes,
            self.raw_num_edges,
            {k: v.to(device) for k, v in self.masks.items()},
            None if self.link_split is None else {k: v.to(device) for k, v in self.link_split.items()},
        )

    def require_labels(self) -> Tensor:
        if self.y is None:
            raise InvalidGraphError(f"dataset {self.name!r} has no node labels")
        return self.y

    def __repr__(self) -> str:
        return (
            f"Graph({self.name}, nodes={self.num_nodes:,}, edges={self.num_edges:,}, "
            f"features={self.num_features}, classes={self.num_classes})"
        )


def make_graph(
    name: str,
    x: Tensor,
    y: Tensor | None,
    edge_index: Tensor,
    num_classes: int | None = None,
    masks: dict[str, Tensor] | None = None,
    link_split: dict[str, Tensor] | None = None,
) -> Graph:
    """Validate raw tensors and normalise the edges (symmetrise, coalesce, drop self-loops).

    Refused, each with one error naming the dataset, the count and the first offending node:
    NaN or inf features, labels ``>= num_classes``, unlabelled nodes (label < 0) inside a
    train / val / test mask, masks of the wrong length. Isolated nodes (no edge once self-loops
    are dropped) are allowed with a :class:`~g2m.errors.DataWarning`: LFD and HFD give them no
    neighbour term."""
    num_nodes = x.size(0)
    if x.dim() != 2:
        raise InvalidGraphError(f"{name}: features must be [N, F], got {tuple(x.shape)}")
    if x.is_floating_point():
        bad = ~torch.isfinite(x).all(dim=1)
        if bool(bad.any()):
            raise InvalidGraphError(
                f"{name}: {_nodes(bad)} with NaN or inf features (first: node "
                f"{int(bad.nonzero()[0])}); clean or impute them before distilling"
            )
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise InvalidGraphError(f"{name}: edge_index must be [2, E], got {tuple(edge_index.shape)}")
    if edge_index.numel() == 0:
        raise InvalidGraphError(f"{name}: the graph has no edges")
    edge_index = edge_index.long()
    if int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes:
        raise InvalidGraphError(f"{name}: edge_index refers to nodes outside [0, {num_nodes})")
    if y is not None:
        y = y.long().view(-1)
        if y.numel() != num_nodes:
            raise InvalidGraphError(f"{name}: {y.numel()} labels for {num_nodes} nodes")
        if num_classes is None:
            num_classes = int(y.max()) + 1
        _check_labels(name, y, num_classes, masks or {})
    raw_num_edges = edge_index.size(1)
    edge_index, _ = remove_self_loops(edge_index)
    edge_index = coalesce(to_undirected(edge_index, num_nodes=num_nodes), num_nodes=num_nodes)
    if edge_index.numel() == 0:
        raise InvalidGraphError(f"{name}: the graph has only self-loops")
    isolated = torch.bincount(edge_index[0], minlength=num_nodes) == 0
    if bool(isolated.any()):
        warnings.warn(
            f"{name}: {_nodes(isolated)} isolated (first: node {int(isolated.nonzero()[0])}); "
            f"LFD and HFD give them no neighbour term",
            DataWarning,
            stacklevel=2,
        )
    return Graph(
        name=name,
        x=x.float().contiguous(),
        y=y,
        edge_index=edge_index,
        num_classes=int(num_classes or 0),
        raw_num_edges=raw_num_edges,
        masks={k: v.bool() for k, v in (masks or {}).items()},
        link_split=link_split,
    )


def _nodes(flags: Tensor) -> str:
    count = int(flags.sum())
    return f"{count:,} node" + ("" if count == 1 else "s")


def _check_labels(name: str, y: Tensor, num_classes: int, masks: dict[str, Tensor]) -> None:
    """Labels in ``[0, num_classes)`` where known (< 0: unlabelled), and no unlabelled node in a mask."""
    high = y >= num_classes
    if bool(high.any()):
        first = int(high.nonzero()[0])
        raise InvalidGraphError(
            f"{name}: {_nodes(high)} labelled >= num_classes = {num_classes} (first: node "
            f"{first}, label {int(y[first])}); labels are 0..C-1, and -1 marks an unlabelled node"
        )
    for key, mask in masks.items():
        if mask.size(0) != y.numel():
            raise InvalidGraphError(f"{name}: the {key} mask has {mask.size(0)} rows for {y.numel()} nodes")
        inside = (mask.bool().view(mask.size(0), -1).any(dim=1)) & (y < 0)
        if bool(inside.any()):
            raise InvalidGraphError(
                f"{name}: {_nodes(inside)} without a label (label < 0) in the {key} mask "
                f"(first: node {int(inside.nonzero()[0])}); drop them from the mask"
            )


def homophily(edge_index: Tensor, y: Tensor) -> tuple[float, float, int]:
    r"""``(edge homophily, adjusted homophily, labelled edges)`` over the edges whose two
    ends have a label ``>= 0`` (NaNs when no edge has two). Edge homophily is the share
    of such edges whose ends share a label; the adjusted one (Platonov et al., 2023) is
    :math:`(h - \sum_k \bar p_k^2) / (1 - \sum_k \bar p_k^2)` with :math:`\bar p_k` the
    share of edge ends in class :math:`k`: 0 for a random graph, whatever the class sizes."""
    a, b = y[edge_index[0]], y[edge_index[1]]
    known = (a >= 0) & (b >= 0)
    a, b = a[known], b[known]
    m = int(a.numel())
    if m == 0:
        return math.nan, math.nan, 0
    h = float((a == b).double().mean())
    classes = int(torch.cat([a, b]).max()) + 1
    p = (torch.bincount(a, minlength=classes) + torch.bincount(b, minlength=classes)).double() / (2 * m)
    expected = float((p * p).sum())
    adjusted = (h - expected) / (1.0 - expected) if expected < 1.0 else math.nan
    return h, adjusted, m


def edge_homophily(edge_index: Tensor, y: Tensor) -> float:
    """Fraction of edges whose two ends share a label, over the edges whose two ends
    are labelled (a negative label means unlabelled); NaN when there is none."""
    return homophily(edge_index, y)[0]


def largest_connected_component(graph: Graph) -> Graph:
    """The subgraph on the nodes of the largest connected component, nodes relabelled
    in their original order (features, labels, masks and edges restricted to it)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = graph.num_nodes
    ei = graph.edge_index.numpy()
    adj = coo_matrix((torch.ones(ei.shape[1], device="cpu").numpy(), (ei[0], ei[1])), shape=(n, n))
    _, comp = connected_components(adj, directed=False)
    comp = torch.from_numpy(comp).long()
    keep = comp == torch.bincount(comp).argmax()
    if bool(keep.all()):
        return graph
    local = torch.full((n,), -1, dtype=torch.long, device="cpu")
    local[keep] = torch.arange(int(keep.sum()), device="cpu")
    edges = local[graph.edge_index]
    edges = edges[:, (edges >= 0).all(0)]
    return Graph(
        name=graph.name,
        x=graph.x[keep],
        y=None if graph.y is None else graph.y[keep],
        edge_index=edges,
        num_classes=graph.num_classes,
        raw_num_edges=graph.raw_num_edges,
        masks={k: v[keep] for k, v in graph.masks.items()},
        link_split=None,
    )


def degree(edge_index: Tensor, num_nodes: int) -> Tensor:
    return torch.bincount(edge_index[0], minlength=num_nodes)


def graph_from_data(data: Any, name: str = "own", symmetrize: bool = False, num_classes: int | None = None) -> Graph:
    """A g2m :class:`~g2m.data.graph.Graph` from a PyG ``Data`` (``x``, ``y``, ``edge_index``;
    ``train_mask`` / ``val_mask`` / ``test_mask`` when present, ``[N]`` or ``[N, S]``).

    g2m's losses read every edge in both directions. A directed ``edge_index`` is refused
    unless ``symmetrize=True`` asks for the reverse edges to be added; self-loops are dropped.
    """
    for attr in ("x", "y", "edge_index"):
        if getattr(data, attr, None) is None:
            raise InvalidGraphError(
                f"{name}: the Data object has no {attr!r}; g2m needs node features x, labels y and edge_index"
            )
    edge_index = undirected_edges(data, name, symmetrize)
    masks = {
        k: getattr(data, f"{k}_mask").cpu()
        for k in ("train", "val", "test")
        if getattr(data, f"{k}_mask", None) is not None
    }
    return make_graph(name, data.x.cpu(), data.y.cpu(), edge_index, num_classes, masks or None)


def undirected_edges(data: Any, name: str, symmetrize: bool) -> Tensor:
    """``data.edge_index`` on the CPU, refused when directed unless ``symmetrize`` asks for the
    reverse edges (which :func:`~g2m.data.graph.make_graph` then adds)."""
    edge_index = data.edge_index.cpu()
    if not symmetrize and not is_undirected(edge_index, num_nodes=data.num_nodes):
        raise InvalidGraphError(
            f"{name}: edge_index is directed (some edges lack their reverse); g2m's losses use both directions "
            f"of every edge: pass symmetrize=True to add the reverse edges"
        )
    return edge_index
