r"""Layer-wise teacher inference, sharded by node ranges over the ranks of a process group.

A full-graph forward pass holds every layer's messages for every node on one process. Here each
rank owns a contiguous range of rows :math:`[a, b)` (:func:`g2m.distributed.row_range`) and
computes, layer by layer, only its rows; one all-gather per layer shares what the next layer reads
from the other ranks' rows:

* ``gcn``: :math:`H^{l+1}_{[a,b)} = \hat A_{[a,b)}\,(H^l W^l) + b^l`, with
  :math:`\hat A = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}` normalised once on the whole graph;
  each rank projects its own rows, :math:`H^l_{[a,b)} W^l`, and the projections are gathered;
* ``sage``: :math:`\mathrm{mean}_{A_{[a,b)}}(H^l W_2^\top) + b + H^l_{[a,b)} W_1^\top` (the
  projection gathered, the root term local; the ``gcn`` aggregator's self-loops are in :math:`A`);
* ``gat``: attention over the edges into :math:`[a, b)`, on the subgraph of those edges' ends
  (the input rows gathered; every head's softmax sees all of a node's in-edges and its self-loop);
* ``appnp``: the MLP row-wise, then :math:`K` steps
  :math:`Z_{[a,b)} \leftarrow (1-\alpha)\hat A_{[a,b)} Z + \alpha H_{[a,b)}`, one gather per step.

Norms, ReLU and (in eval mode, absent) dropout act on rows. The result equals
``model(x, edge_index, return_hidden=True)`` up to float rounding (tested, 1 and 2 processes);
without a process group one rank owns every row and no collective runs.

Shapes:
    x: :math:`[N, F]` dense or CSR; edge_index: :math:`[2, E]`, coalesced, every direction listed.
    Returns logits :math:`[N, C]` and hidden :math:`[N, H]` (the last layer's input), on every rank.
"""

from __future__ import annotations

from typing import cast

import torch
from torch import Tensor
from torch_geometric.nn import GATConv, GCNConv, SAGEConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import spmm

from g2m import distributed as dist
from g2m.ops.sparse import csr_rows, quiet_csr, row_block
from g2m.teachers.models import GNN


def _normalised(model: GNN, adj_t: Tensor, num_nodes: int, dtype: torch.dtype) -> Tensor:
    """:math:`\\hat A` as PyG's GCNConv and APPNP normalise it (self-loops, symmetric degrees)."""
    improved = model.kind == "gcn" and bool(model.convs[0].improved)
    with quiet_csr():
        norm = gcn_norm(adj_t, None, num_nodes, improved, True, "source_to_target", dtype)[0]
        return norm.to_sparse_csr()


def _gat_rows(layer: GATConv, h: Tensor, edge_index: Tensor, start: int, stop: int) -> Tensor:
    """A GAT layer's output rows ``[start, stop)``: the layer on the subgraph of the edges into
    those rows, relabelled so that they come first."""
    into = (edge_index[1] >= start) & (edge_index[1] < stop)
    edges = edge_index[:, into]
    mine = torch.arange(start, stop, device=h.device)
    others = edges[0][(edges[0] < start) | (edges[0] >= stop)].unique()
    order = torch.cat([mine, others])
    relabel = torch.full((h.size(0),), -1, dtype=torch.long, device=h.device)
    relabel[order] = torch.arange(order.numel(), device=h.device)
    return layer(h[order], relabel[edges])[: stop - start]


class ShardedInference:
    """Sharded inference of one graph, its row-sliced operator built once (validation calls it
    every epoch). ``infer(model)`` gives ``(logits, hidden)``; ``hidden=False`` skips gathering
    the hidden layer (validation needs the logits alone).

    The first layer needs no collective: every rank holds all of ``x``, so it aggregates its rows
    of :math:`A` against ``x`` itself (dense features: aggregate, then project, the cheaper order
    when :math:`F < H`) or projects every row locally (CSR features).

    Args:
        model: the :class:`~g2m.teachers.models.GNN` whose kind and normalisation the operator follows.
        x: node features, dense or CSR, on the model's device.
        edge_index: the graph's edges, on the model's device.
    """

    def __init__(self, model: GNN, x: Tensor, edge_index: Tensor) -> None:
        self.kind, self.x, self.edge_index = model.kind, x, edge_index
        self.n = x.size(0)
        self.start, self.stop = dist.row_range(self.n)
        self.op = None
        if model.kind in ("gcn", "appnp"):
            self.op = csr_rows(
                _normalised(model, model.adjacency(edge_index, self.n), self.n, torch.float32), self.start, self.stop
            )
        elif model.kind == "sage":
            self.op = csr_rows(model.adjacency(edge_index, self.n), self.start, self.stop)

    def _aggregate(self, h: Tensor, reduce: str = "sum") -> Tensor:
        assert self.op is not None
        return spmm(self.op, h, reduce=reduce)

    def _gcn(self, layer: GCNConv, h: Tensor, first: bool) -> Tensor:
        """A GCN layer's rows: aggregate-then-project on dense input features, else project (the
        features locally, a later layer's rows then gathered) and aggregate."""
        if first and self.x.layout == torch.strided:
            out = layer.lin(self._aggregate(self.x))
        else:
            out = self._aggregate(layer.lin(self.x) if first else dist.gather_rows(layer.lin(h), self.n))
        return out if layer.bias is None else out + layer.bias

    def _sage(self, layer: SAGEConv, h: Tensor, first: bool) -> Tensor:
        """A SAGE layer's rows, in the same two orders as :meth:`_gcn`; the root term is local."""
        w, aggr = layer.lin_l.weight, str(layer.aggr)
        if first and self.x.layout == torch.strided:
            out = torch.nn.functional.linear(self._aggregate(self.x, aggr), w)
        else:
            proj = torch.nn.functional.linear(self.x if first else h, w)
            out = self._aggregate(proj if first else dist.gather_rows(proj, self.n), aggr)
        out = out if layer.lin_l.bias is None else out + layer.lin_l.bias
        return out + layer.lin_r(h) if layer.root_weight else out

    @torch.no_grad()
    def __call__(self, model: GNN, hidden: bool = True, gather: bool = True) -> tuple[Tensor, Tensor | None]:
        """``(logits, hidden)`` of every node (on every rank), or with ``gather=False`` of this
        rank's rows ``[start, stop)`` only (no final all-gather: each rank writes its own slice,
        :meth:`g2m.cache.TeacherCache.save_row_shards`)."""
        if model.kind != self.kind:
            raise ValueError(f"this ShardedInference was built for a {self.kind} teacher, not {model.kind}")
        was_training = model.training
        model.eval()
        n, start, stop = self.n, self.start, self.stop
        h = row_block(self.x, start, stop)  # this rank's rows of the current layer's input
        kept = h
        last = len(model.convs) - 1
        for i, layer in enumerate(model.convs):
            if i == last and model.hidden_at == "input":
                kept = h.to_dense() if h.layout != torch.strided else h
            first = i == 0
            if model.kind == "appnp":
                h = layer(h)
            elif model.kind == "gcn":
                h = self._gcn(cast(GCNConv, layer), h, first)
            elif model.kind == "sage":
                h = self._sage(cast(SAGEConv, layer), h, first)
            else:  # gat
                whole = self.x if first else dist.gather_rows(h, n)
                whole = whole.to_dense() if whole.layout != torch.strided else whole
                h = _gat_rows(cast(GATConv, layer), whole, self.edge_index, start, stop)
            if i == last - 1 and model.hidden_at == "pre-activation":
                kept = h
            if i < last:
                h = torch.relu(model.norms[i](h))
        if model.propagate is not None:  # appnp
            alpha, z = model.propagate.alpha, h
            for _ in range(model.propagate.K):
                z = (1 - alpha) * self._aggregate(dist.gather_rows(z, n)) + alpha * h
            h = z
        model.train(was_training)
        if not gather:
            return h, (kept if hidden else None)
        return dist.gather_rows(h, n), (dist.gather_rows(kept, n) if hidden else None)


def sharded_inference(model: GNN, x: Tensor, edge_index: Tensor) -> tuple[Tensor, Tensor]:
    """``(logits, hidden)`` of ``model`` (eval mode) on the whole graph, each rank computing its
    :func:`~g2m.distributed.row_range` of every layer (see the module docstring): a
    :class:`ShardedInference` used once."""
    logits, hidden = ShardedInference(model, x, edge_index)(model)
    assert hidden is not None
    return logits, hidden
