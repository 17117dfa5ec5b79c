r"""Link teachers that need no training: neighbourhood-overlap heuristics.

EHDM (Qin et al., "Weak Models Can Be Good Teachers", LoG 2025; ZongyueQin/EHDM) distils the
scores of classic link heuristics into MLP students through LLP's rank and distribution losses,
with no GNN to train. Over the graph's neighbour sets :math:`\mathcal{N}(\cdot)` and degrees
:math:`d_w`:

.. math::
    \mathrm{CN}(u, v) = |\mathcal{N}(u) \cap \mathcal{N}(v)|, \qquad
    \mathrm{AA}(u, v) = \sum_{w \in \mathcal{N}(u) \cap \mathcal{N}(v)} \frac{1}{\log d_w}, \qquad
    \mathrm{RA}(u, v) = \sum_{w \in \mathcal{N}(u) \cap \mathcal{N}(v)} \frac{1}{d_w}

(a common neighbour of degree 1 cannot occur; AA gives degree-1 nodes weight 0, as the official
``get_heuristic.py``). The scores are raw, not logits: LLP's relational terms compare them within
each anchor's contexts, where only their order (rank) and their softmax (distribution) count.
"""

from __future__ import annotations

import torch
from torch import Tensor

from g2m.methods import LINK_HEURISTICS


class HeuristicScorer:
    r"""Scores node pairs by a neighbourhood heuristic of the graph ``edge_index``.

    Each pair walks the neighbour list of its end of lower degree and looks every neighbour up in
    the other end's list (one sorted key per directed edge, :func:`torch.searchsorted`), so a
    batch of :math:`B` pairs costs :math:`O(\sum_b \min(d_u, d_v) \log E)`, with no :math:`N
    \times N` product. Vectorised torch, the same on CPU and CUDA.

    Args:
        kind: ``cn`` (common neighbours), ``aa`` (Adamic-Adar) or ``ra`` (resource allocation).
        edge_index: The graph, ``[2, E]``, both directions of every undirected edge (a link
            split's ``message_edge_index``: the training edges only). Self-loops and duplicates
            are dropped.
        num_nodes: :math:`N`.

    Shapes:
        - **u**, **v**: :math:`[B]` node ids; **output**: :math:`[B]` float scores.

    Example:
        >>> ring = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 0], [1, 0, 2, 1, 3, 2, 0, 3]])
        >>> cn = HeuristicScorer("cn", ring, 4)
        >>> cn(torch.tensor([0, 0]), torch.tensor([2, 1]))  # 0 and 2 share 1 and 3; 0 and 1 none
        tensor([2., 0.])
        >>> HeuristicScorer("ra", ring, 4)(torch.tensor([0]), torch.tensor([2]))  # 1/2 + 1/2
        tensor([1.])
    """

    def __init__(self, kind: str, edge_index: Tensor, num_nodes: int) -> None:
        if kind not in LINK_HEURISTICS:
            raise ValueError(f"unknown link heuristic {kind!r}; choose one of {LINK_HEURISTICS}")
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise ValueError(f"edge_index must be [2, E], got {tuple(edge_index.shape)}")
        if num_nodes < 1:
            raise ValueError(f"num_nodes must be positive, got {num_nodes}")
        if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes):
            raise ValueError(f"edge_index holds node ids outside [0, {num_nodes})")
        self.kind, self.num_nodes = kind, num_nodes
        row, col = edge_index.long()
        keys = torch.unique(row[row != col] * num_nodes + col[row != col])  # sorted, one per edge
        row = keys // num_nodes
        self.keys, self.col = keys, keys % num_nodes
        self.degree = torch.bincount(row, minlength=num_nodes)
        self.rowptr = torch.cumsum(self.degree, 0) - self.degree
        d = self.degree.double()
        if kind == "cn":
            weight = torch.ones_like(d)
        elif kind == "aa":
            weight = torch.where(d > 1, 1.0 / d.clamp_min(2).log(), 0.0)
        else:
            weight = torch.where(d > 0, 1.0 / d.clamp_min(1), 0.0)
        self.weight = weight.float()

    def to(self, device: str | torch.device) -> HeuristicScorer:
        """Moves its tables to ``device`` (in place, as ``nn.Module.to``); returns itself."""
        for name in ("keys", "col", "degree", "rowptr", "weight"):
            setattr(self, name, getattr(self, name).to(device))
        return self

    def __call__(self, u: Tensor, v: Tensor) -> Tensor:
        if u.shape != v.shape or u.dim() != 1:
            raise ValueError(f"u and v must be [B] of one shape, got {tuple(u.shape)} and {tuple(v.shape)}")
        u, v = u.to(self.keys.device).long(), v.to(self.keys.device).long()
        swap = self.degree[u] > self.degree[v]  # walk the shorter neighbour list
        a, b = torch.where(swap, v, u), torch.where(swap, u, v)
        counts = self.degree[a]
        pair = torch.repeat_interleave(torch.arange(u.numel(), device=u.device), counts)
        within = torch.arange(pair.numel(), device=u.device) - torch.repeat_interleave(
            torch.cumsum(counts, 0) - counts, counts
        )
        w = self.col[self.rowptr[a][pair] + within]  # every neighbour of a, pair by pair
        query = b[pair] * self.num_nodes + w
        at = torch.searchsorted(self.keys, query).clamp_max(max(self.keys.numel() - 1, 0))
        hit = self.keys[at] == query if self.keys.numel() else torch.zeros_like(query, dtype=torch.bool)
        out = torch.zeros(u.numel(), device=u.device)
        return out.index_add_(0, pair[hit], self.weight[w[hit]])

    def score_pairs(self, pairs: Tensor) -> Tensor:
        """Scores of ``pairs`` (``[2, B]``)."""
        return self(pairs[0], pairs[1])
