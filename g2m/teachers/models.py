r"""GNN teachers built from PyG layers.

All teachers map ``(x, edge_index)`` to node outputs of size ``out_dim`` and can
also return a hidden representation, which the teacher cache stores next to the logits:
``hidden_at="input"`` the one that feeds the last layer, ``"pre-activation"`` the last hidden
layer's output before its norm and ReLU (NOSMOG's stored teacher embedding).

* ``gcn``: :math:`H^{l+1} = \sigma(\hat D^{-1/2} \hat A \hat D^{-1/2} H^l W^l)`
* ``sage``: :math:`h_i^{l+1} = \sigma(W_1 h_i^l + W_2\, \mathrm{mean}_{j \in N(i)} h_j^l)`
  (``sage_aggr="mean"``), or DGL's ``gcn`` aggregator
  :math:`h_i^{l+1} = \sigma(W\, \mathrm{mean}_{j \in N(i) \cup \{i\}} h_j^l)`
  (``sage_aggr="gcn"``), which the GLNN and FF-G2M teachers use
* ``gat``: multi-head attention, heads concatenated in hidden layers, one head at the output
* ``appnp``: an MLP followed by :math:`K` steps of personalised-PageRank propagation
  :math:`Z \leftarrow (1-\alpha) \hat A Z + \alpha H`

``forward`` takes either an ``edge_index`` or the operator :meth:`GNN.adjacency` builds
from it (a CSR :math:`A^\top` for gcn, sage and appnp), and dense or CSR features
(:func:`g2m.ops.sparse.sparse_features`). The full-graph trainers pass the sparse forms:
same outputs up to rounding, no per-edge messages (see :mod:`g2m.ops.sparse`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import APPNP, GATConv, GCNConv, SAGEConv
from torch_geometric.nn.models.basic_gnn import BasicGNN
from torch_geometric.utils import add_remaining_self_loops, spmm

from g2m.layers import make_norm, renamed_prefix
from g2m.methods import HIDDEN_POINTS, TEACHERS
from g2m.ops.sparse import csr_adjacency, dropout, is_sparse


class GNN(BasicGNN):
    """A stack of message-passing layers with norm, ReLU and dropout between them: PyG's
    :class:`~torch_geometric.nn.models.basic_gnn.BasicGNN` (``convs``, ``norms``, ``reset_parameters``),
    its layer per ``kind`` from :meth:`init_conv`, and a ``forward`` of its own: dropout before
    every layer (``input_dropout`` before the first, as the GLNN and FF-G2M teachers), the hidden
    representation at ``hidden_at``, CSR operators, and APPNP's propagation after the stack.

    Args:
        kind: ``gcn`` | ``sage`` | ``gat`` | ``appnp`` (:data:`g2m.methods.TEACHERS`).
        in_dim: input features.
        out_dim: outputs (classes, or a link embedding's width).
        hidden: width of the hidden layers (GAT: all heads together).
        num_layers: layers, the output layer included.
        dropout: dropout before every layer but the first, and on GAT's attention.
        norm: ``none`` | ``batch`` | ``layer`` after every hidden layer (:func:`g2m.layers.make_norm`).
        heads: GAT's heads in the hidden layers (the output layer has one).
        appnp_k: APPNP's propagation steps :math:`K`.
        appnp_alpha: APPNP's teleport probability :math:`\alpha`.
        input_dropout: dropout before the first layer (None: ``dropout``).
        sage_aggr: ``mean`` (PyG's SAGEConv) or ``gcn`` (DGL's aggregator: self-loops, no root weight).
        hidden_at: ``input`` (the last layer's input) or ``pre-activation`` (the last hidden layer's
            output before its norm and ReLU).

    Shapes:
        - **input:** node features :math:`(N, F)`, dense or CSR; ``edge_index`` :math:`(2, E)`, or
          the operator :meth:`adjacency` returns.
        - **output:** :math:`(N, C)`, and with ``return_hidden`` the hidden representation.

    Example:
        >>> import torch
        >>> from g2m.teachers.models import GNN
        >>> gnn = GNN("sage", in_dim=8, out_dim=3, hidden=16)
        >>> x, edge_index = torch.randn(5, 8), torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])
        >>> logits, hidden = gnn(x, edge_index, return_hidden=True)
        >>> tuple(logits.shape), tuple(hidden.shape), [type(c).__name__ for c in gnn.convs]
        ((5, 3), (5, 16), ['SAGEConv', 'SAGEConv'])
    """

    def __init__(
        self,
        kind: str,
        in_dim: int,
        out_dim: int,
        hidden: int = 256,
        num_layers: int = 2,
        dropout: float = 0.5,
        norm: str = "none",
        heads: int = 8,
        appnp_k: int = 10,
        appnp_alpha: float = 0.1,
        input_dropout: float | None = None,
        sage_aggr: str = "mean",
        hidden_at: str = "input",
    ) -> None:
        if hidden_at not in HIDDEN_POINTS:
            raise ValueError(f"hidden_at must be one of {HIDDEN_POINTS}, got {hidden_at!r}")
        if kind not in TEACHERS:
            raise ValueError(f"unknown teacher {kind!r}; choose one of {TEACHERS}")
        if num_layers < 1:
            raise ValueError("num_layers must be at least 1")
        if sage_aggr not in ("mean", "gcn"):
            raise ValueError(f"sage_aggr must be mean or gcn, got {sage_aggr!r}")
        if hidden_at == "pre-activation" and num_layers < 2:
            raise ValueError("hidden_at='pre-activation' needs a hidden layer: num_layers >= 2")
        if kind == "gat" and num_layers > 1 and hidden % heads:
            raise ValueError(f"GAT hidden size {hidden} must be divisible by heads={heads}")
        # read by init_conv, which BasicGNN.__init__ calls once per layer, in order
        self.kind, self.heads, self.dropout_p = kind, heads, dropout
        self.self_loops = kind == "sage" and sage_aggr == "gcn"
        super().__init__(in_dim, hidden, num_layers, out_dim, dropout=dropout, norm=None)
        self.hidden_at = hidden_at
        self.input_dropout = dropout if input_dropout is None else input_dropout
        # the norms after the hidden layers, then BasicGNN's Identity after the last
        self.norms = nn.ModuleList([make_norm(norm, hidden) for _ in range(num_layers - 1)] + [nn.Identity()])
        self.propagate = APPNP(appnp_k, appnp_alpha) if kind == "appnp" else None
        self.register_load_state_dict_pre_hook(renamed_prefix("layers.", "convs."))  # saved before BasicGNN

    def init_conv(self, in_channels: int, out_channels: int, **kwargs) -> nn.Module:  # type: ignore[override]
        """The layer of ``kind`` from ``in_channels`` to ``out_channels`` (BasicGNN's hook)."""
        last = len(self.convs) == self.num_layers - 1  # the layers built so far are in self.convs
        if self.kind == "gcn":
            return GCNConv(in_channels, out_channels, cached=False)
        if self.kind == "sage":  # gcn aggregator: no root weight; self-loops are added in forward()
            return SAGEConv(in_channels, out_channels, root_weight=not self.self_loops)
        if self.kind == "gat":  # hidden layers: `heads` heads of size hidden // heads, concatenated
            if last:
                return GATConv(in_channels, out_channels, heads=1, dropout=self.dropout_p)
            return GATConv(in_channels, out_channels // self.heads, heads=self.heads, dropout=self.dropout_p)
        return nn.Linear(in_channels, out_channels)  # appnp: plain linear layers, then propagation

    def adjacency(self, edge_index: Tensor, num_nodes: int) -> Tensor:
        """The operator :meth:`forward` takes in place of a coalesced, loop-free ``edge_index``.

        gcn, sage and appnp get a CSR :math:`A^\\top` (self-loops added first for the sage
        gcn aggregator); gat needs per-edge attention and keeps ``edge_index``.
        """
        if self.kind == "gat":
            return edge_index
        if self.self_loops:
            edge_index, _ = add_remaining_self_loops(edge_index, num_nodes=num_nodes)
        return csr_adjacency(edge_index, num_nodes)

    def forward(self, x: Tensor, edge_index: Tensor, return_hidden: bool = False):
        if not is_sparse(edge_index):
            if is_sparse(x) and self.kind != "gat":
                edge_index = self.adjacency(edge_index, x.size(0))
            elif self.self_loops:
                edge_index, _ = add_remaining_self_loops(edge_index, num_nodes=x.size(0))
        h = x
        hidden = x
        last = len(self.convs) - 1
        for i, layer in enumerate(self.convs):
            h = dropout(h, self.dropout_p if i else self.input_dropout, self.training)
            if i == last and self.hidden_at == "input":
                hidden = h.to_dense() if is_sparse(h) else h
            if self.kind == "appnp":
                h = layer(h)
            elif self.kind == "sage" and is_sparse(h):
                h = _sage_linear_first(layer, h, edge_index)
            else:
                h = layer(h, edge_index)
            if i == last - 1 and self.hidden_at == "pre-activation":
                hidden = h
            if i < last:
                h = torch.relu(self.norms[i](h))
        if self.propagate is not None:
            h = self.propagate(h, edge_index)
        return (h, hidden) if return_hidden else h


def _sage_linear_first(layer: SAGEConv, x: Tensor, adj_t: Tensor) -> Tensor:
    r"""``layer(x, adj_t)`` for CSR features: :math:`\mathrm{mean}(X) W^\top + b = \mathrm{mean}(X W^\top) + b`.

    PyG's SAGEConv aggregates before its linear map, which would need a sparse-sparse
    product; projecting first gives the same output (up to rounding) from dense operands.
    """
    out = spmm(adj_t, nn.functional.linear(x, layer.lin_l.weight), reduce=layer.aggr)
    if layer.lin_l.bias is not None:
        out = out + layer.lin_l.bias
    if layer.root_weight:
        out = out + layer.lin_r(x)
    return out


def build_teacher(kind: str, in_dim: int, out_dim: int, **hparams) -> GNN:
    """Build a teacher by name; ``hparams`` are :class:`GNN` keyword arguments."""
    return GNN(kind, in_dim, out_dim, **hparams)
