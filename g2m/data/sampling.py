r"""Graph sampling on CSR tensors, vectorised over all walkers (no Python loop over nodes).

Context sampling for relational distillation (LLP): every anchor gets

* *nearby* nodes: the positions of ``walks`` random walks of ``hops`` steps
  started at the anchor (so each is within ``hops`` hops of it), and
* *random* nodes: ``ceil(random_ratio * walks * hops)`` uniform draws.

Contexts equal to their anchor are dropped, so groups can differ in size; the
result is a flat ``(anchor, context)`` list grouped by anchor, the layout the
scatter-based losses take.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass

import torch
from torch import Tensor

from g2m.device import randint, uniform
from g2m.methods import WALKERS
from g2m.ops.sparse import quiet_csr
from g2m.optional import resolve_choice


@dataclass(frozen=True)
class CSR:
    rowptr: Tensor  # [N + 1]
    col: Tensor  # [E], neighbours of node i are col[rowptr[i]:rowptr[i+1]]

    @property
    def num_nodes(self) -> int:
        return self.rowptr.numel() - 1

    def degree(self) -> Tensor:
        return self.rowptr[1:] - self.rowptr[:-1]

    def neighbours(self, nodes: Tensor) -> tuple[Tensor, Tensor]:
        """Every neighbour of each of ``nodes``: ``(owner, neighbour)``, where ``owner[k]`` is
        the position in ``nodes`` whose row ``neighbour[k]`` comes from (rows in order)."""
        start = self.rowptr[nodes]
        deg = self.rowptr[nodes + 1] - start
        owner = torch.repeat_interleave(torch.arange(nodes.numel(), device=nodes.device), deg)
        first = torch.repeat_interleave(torch.cumsum(deg, 0) - deg, deg)
        return owner, self.col[start[owner] + torch.arange(owner.numel(), device=nodes.device) - first]

    def to_sparse(self) -> Tensor:
        """The ``[N, N]`` torch sparse CSR tensor with unit values (row ``i`` holds the
        neighbours of ``i``), the adjacency PyG layers aggregate with ``spmm``."""
        with quiet_csr():
            return torch.sparse_csr_tensor(
                self.rowptr,
                self.col,
                torch.ones(self.col.numel(), device=self.col.device),
                (self.num_nodes, self.num_nodes),
                device=self.col.device,
            )


def to_csr(edge_index: Tensor, num_nodes: int) -> CSR:
    order = torch.argsort(edge_index[0] * num_nodes + edge_index[1])
    src, col = edge_index[0, order], edge_index[1, order]
    rowptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=edge_index.device)
    rowptr[1:] = torch.cumsum(torch.bincount(src, minlength=num_nodes), 0)
    return CSR(rowptr, col.contiguous())


def has_torch_cluster() -> bool:
    return importlib.util.find_spec("torch_cluster") is not None


def resolve_walker(name: str = "auto") -> str:
    """``"auto"`` -> ``"g2m"``, whatever is installed, so that a seed's walks (and the positions and
    contexts drawn from them) are the same with and without torch-cluster; ``"torch_cluster"`` only
    when asked for by name (it must be installed). Validates the name."""
    return resolve_choice(
        "walker",
        name,
        WALKERS,
        "torch_cluster",
        "g2m",
        has_torch_cluster(),
        "torch-cluster (pip install --no-build-isolation torch-cluster)",
        "walker",
        auto="g2m",
    )


def random_walk(csr: CSR, start: Tensor, hops: int, gen: torch.Generator | None = None, walker: str = "auto") -> Tensor:
    """``[len(start), hops + 1]`` node ids; column ``k`` is the position after ``k`` steps.
    A walker on a node with no neighbours stays where it is.

    ``walker="torch_cluster"``: torch-cluster's compiled uniform walk (PyG's ``Node2Vec``
    kernel with p = q = 1), drawing from torch's global generator; ``"g2m"``: the
    vectorised walk below, drawing from ``gen``; ``"auto"``: ``"g2m"``.
    """
    if resolve_walker(walker) == "torch_cluster":
        import torch_cluster  # noqa: F401  (registers torch.ops.torch_cluster)

        return torch.ops.torch_cluster.random_walk(csr.rowptr, csr.col, start, hops, 1.0, 1.0)[0]
    path = [start]
    cur = start
    deg = csr.degree()
    for _ in range(hops):
        d = deg[cur]
        offset = (uniform(cur.numel(), gen, cur) * d).long()
        nxt = csr.col[(csr.rowptr[cur] + offset).clamp(max=max(csr.col.numel() - 1, 0))]
        cur = torch.where(d > 0, nxt, cur)
        path.append(cur)
    return torch.stack(path, dim=1)


@dataclass(frozen=True)
class Contexts:
    """Flat ``(anchor, context)`` pairs sorted by ``group`` (the anchor's position)."""

    anchor: Tensor  # [M] node id of the anchor
    context: Tensor  # [M] node id of the context node
    group: Tensor  # [M] index of the anchor in the anchors tensor, non-decreasing
    nearby: Tensor  # [M] bool: came from a random walk
    num_groups: int


def sample_contexts(
    csr: CSR,
    anchors: Tensor,
    walks: int = 4,
    hops: int = 3,
    random_ratio: float = 1.0,
    gen: torch.Generator | None = None,
    candidates: Tensor | None = None,
    walker: str = "auto",
) -> Contexts:
    """Contexts of every anchor; random ones are drawn from ``candidates`` (default: all nodes).
    ``walker`` picks the random-walk kernel (:func:`random_walk`)."""
    if walks < 1 or hops < 1:
        raise ValueError("walks and hops must be at least 1")
    if random_ratio < 0:
        raise ValueError("random_ratio must be non-negative")
    num_anchors = anchors.numel()
    paths = random_walk(csr, anchors.repeat_interleave(walks), hops, gen, walker)[:, 1:]  # [A*W, hops]
    near = paths.reshape(num_anchors, walks * hops)
    num_random = math.ceil(random_ratio * walks * hops)
    if candidates is None:
        far = randint(csr.num_nodes, (num_anchors, num_random), gen, anchors)
    else:
        far = candidates[randint(candidates.numel(), (num_anchors, num_random), gen, candidates)]
    context = torch.cat([near, far], dim=1)
    is_near = torch.zeros_like(context, dtype=torch.bool)
    is_near[:, : walks * hops] = True
    group = torch.arange(num_anchors, device=anchors.device).unsqueeze(1).expand_as(context)
    keep = context != anchors.unsqueeze(1)
    return Contexts(anchors[group[keep]], context[keep], group[keep], is_near[keep], num_anchors)


@dataclass(frozen=True)
class Neighbourhood:
    """A sampled computation graph: ``nodes[:num_seeds]`` are the seeds, ``edge_index``
    uses positions in ``nodes`` and points from neighbour to the node it informs."""

    nodes: Tensor
    edge_index: Tensor
    num_seeds: int


def sample_neighbourhood(
    csr: CSR, seeds: Tensor, fanouts: list[int] | tuple[int, ...], gen: torch.Generator | None = None
) -> Neighbourhood:
    """GraphSAGE-style sampling: hop ``k`` draws ``fanouts[k]`` neighbours (with
    replacement; duplicates merged) of every node reached at hop ``k - 1``.
    A fan-out of ``-1`` takes every neighbour. Vectorised over the frontier; the
    work is proportional to the sample, not to the graph. ``seeds`` must be distinct."""
    deg_all = csr.degree()
    frontier, srcs, dsts = seeds, [], []
    for fanout in fanouts:
        if fanout < 0:
            owner, src = csr.neighbours(frontier)
            dst = frontier[owner]
        else:
            dst = frontier.repeat_interleave(fanout)
            d = deg_all[frontier].repeat_interleave(fanout)
            keep = d > 0
            dst, d = dst[keep], d[keep]
            src = csr.col[csr.rowptr[dst] + (uniform(dst.numel(), gen, dst) * d).long()]
        srcs.append(src)
        dsts.append(dst)
        frontier = src.unique()
    if not srcs:
        return Neighbourhood(seeds, torch.empty(2, 0, dtype=torch.long, device=seeds.device), seeds.numel())
    src, dst = torch.cat(srcs), torch.cat(dsts)
    # relabel to positions in `nodes` (seeds first) in O(sampled size), no [N] buffers
    num_seeds, num_edges = seeds.numel(), src.numel()
    uniq, inv = torch.unique(torch.cat([seeds, src, dst]), return_inverse=True)
    is_seed = torch.zeros(uniq.numel(), dtype=torch.bool, device=uniq.device)
    is_seed[inv[:num_seeds]] = True
    order = torch.cat([inv[:num_seeds], (~is_seed).nonzero().view(-1)])
    rank = torch.empty_like(order)
    rank[order] = torch.arange(order.numel(), device=order.device)
    nodes = uniq[order]
    # merge repeated draws of one edge through a 1-D key (unique over columns is far slower)
    m = nodes.numel()
    key = torch.unique(rank[inv[num_seeds : num_seeds + num_edges]] * m + rank[inv[num_seeds + num_edges :]])
    return Neighbourhood(nodes, torch.stack([key // m, key % m]), seeds.numel())
