r"""VQGraph's structure-aware tokenizer (Yang et al., ICLR 2024; YangLing0818/VQGraph ``models.py``,
``vq.py``): a GCN teacher whose hidden layer passes through a vector-quantised codebook.

.. math::
    h_i &= \mathrm{dropout}(\mathrm{ReLU}(\mathrm{GCN}_1(X)_i)) \in \mathbb{R}^F, \qquad
    k_i = \arg\max_k \hat h_i^\top \hat e_k, \qquad q_i = e_{k_i} \\
    z_i &= W_{edge}\, q_i, \qquad
    \mathrm{logits} = W_{out}\, \mathrm{ReLU}(\mathrm{GCN}_2(Z)),

trained with the labels' cross-entropy plus

.. math:: \lambda_{node}\,\mathrm{MSE}(h, W_{node}\, q) + \lambda_{edge}\,\mathcal{L}_{edge}(Z)
          + \beta\,\mathrm{MSE}(q, h)

(:func:`g2m.losses.tokens.edge_reconstruction_loss`; :math:`\beta` the commitment weight, the
gradient passing straight through the quantiser). The codebook is not a parameter: each training
step moves every code used by a node towards the mean of its nodes' unit-normalised :math:`h`, by
an exponential moving average (decay 0.8). As the official ``GCN`` model: the codebook lives in the
feature space (:math:`F` = the input width), the first layer is :math:`F \to F`, and the first layer
takes no input dropout.

A student learns the codes from the tokenizer's ``code_input`` (:math:`h` at evaluation) and its
``codebook``: the teacher's soft assignment of node :math:`i` is ``softmax`` of its cosine
similarities to the codes (:func:`g2m.losses.tokens.code_similarities`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GCNConv
from torch_geometric.utils import add_remaining_self_loops

from g2m.losses.tokens import edge_reconstruction_loss
from g2m.ops.sparse import csr_adjacency, dropout, is_sparse

#: rows per block when nodes are assigned to codes (memory: ``rows x K`` similarities)
ASSIGN_ROWS = 4096


class CosineCodebook(nn.Module):
    r"""A codebook of ``size`` unit vectors in :math:`\mathbb{R}^{dim}`, nodes assigned to the most
    cosine-similar code, updated by an exponential moving average of its nodes' directions
    (``decay``), as ``CosineSimCodebook`` of the official ``vq.py`` with its defaults (uniform
    initialisation, no k-means, no dead-code expiry)."""

    embed: Tensor

    def __init__(self, dim: int, size: int, decay: float = 0.8) -> None:
        super().__init__()
        if size < 1 or dim < 1:
            raise ValueError(f"a codebook needs at least one code of at least one dimension, got {size} x {dim}")
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"the codebook's decay must lie in [0, 1), got {decay}")
        self.decay = decay
        self.register_buffer("embed", F.normalize(torch.empty(size, dim, device="cpu").uniform_(-1.0, 1.0), dim=-1))

    def assign(self, h: Tensor) -> Tensor:
        """The index of each row's most cosine-similar code (``[N]``), ``ASSIGN_ROWS`` rows at a time."""
        codes = F.normalize(self.embed, dim=-1)
        with torch.no_grad():
            return torch.cat(
                [(F.normalize(block, dim=-1) @ codes.t()).argmax(-1) for block in h.detach().split(ASSIGN_ROWS)]
            )

    def forward(self, h: Tensor) -> Tensor:
        """The assigned codes of ``h``'s rows (``[N, dim]``), before this step's update; in training,
        then moves the codes that were used."""
        index = self.assign(h)
        quantized = self.embed[index]
        if self.training:
            with torch.no_grad():
                counts = torch.bincount(index, minlength=self.embed.size(0)).to(h.dtype)
                sums = torch.zeros_like(self.embed).index_add_(0, index, F.normalize(h.detach(), dim=-1))
                target = F.normalize(sums / counts.clamp_min(1).unsqueeze(1), dim=-1)
                unused = (counts == 0).unsqueeze(1)
                target = torch.where(unused, F.normalize(self.embed, dim=-1), target)
                self.embed.lerp_(target, 1.0 - self.decay)
        return quantized


class VQGraphTokenizer(nn.Module):
    """VQGraph's GCN tokenizer teacher (see the module's docstring for the maths).

    Args:
        in_dim: the feature width :math:`F` (also the codebook's).
        out_dim: the number of classes.
        hidden: the second GCN layer's width.
        dropout: after the first layer (the official ``dropout_ratio``).
        codebook_size: codes :math:`K` (official ``--codebook_size``, 5000).
        node_weight: :math:`\\lambda_{node}` (``--lamb_node``, 0.001).
        edge_weight: :math:`\\lambda_{edge}` (``--lamb_edge``, 0.03).
        commitment_weight: :math:`\\beta` (0.25).
        decay: the codebook's moving-average decay (0.8).

    Shapes:
        ``forward(x [N, F], adj)`` -> logits ``[N, C]``; with ``return_hidden`` also the last layer's
        input ``[N, hidden]``; :meth:`loss_forward` also the tokenizer's loss (a scalar).
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        hidden: int = 64,
        dropout: float = 0.8,
        codebook_size: int = 5000,
        node_weight: float = 0.001,
        edge_weight: float = 0.03,
        commitment_weight: float = 0.25,
        decay: float = 0.8,
    ) -> None:
        super().__init__()
        self.kind = "vqgcn"
        self.conv1 = GCNConv(in_dim, in_dim)
        self.conv2 = GCNConv(in_dim, hidden)
        self.decode_edge = nn.Linear(in_dim, in_dim)
        self.decode_node = nn.Linear(in_dim, in_dim)
        self.out = nn.Linear(hidden, out_dim)
        self.codebook = CosineCodebook(in_dim, codebook_size, decay)
        self.dropout = dropout
        self.node_weight, self.edge_weight, self.commitment_weight = node_weight, edge_weight, commitment_weight

    def adjacency(self, edge_index: Tensor, num_nodes: int) -> Tensor:
        """The CSR operator :meth:`forward` takes in place of a coalesced, loop-free ``edge_index``."""
        return csr_adjacency(edge_index, num_nodes)

    def code_input(self, x: Tensor, adj: Tensor) -> Tensor:
        r""":math:`h`, the rows the codebook quantises (``[N, F]``)."""
        if not is_sparse(adj):
            adj = self.adjacency(adj, x.size(0))
        return dropout(torch.relu(self.conv1(x, adj)), self.dropout, self.training)

    def _decode(self, h: Tensor, adj: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        quantized = self.codebook(h)
        straight = h + (quantized - h).detach() if self.training else quantized
        z = self.decode_edge(straight)
        hidden = torch.relu(self.conv2(z, adj))
        return self.out(hidden), hidden, straight, z

    def forward(self, x: Tensor, adj: Tensor, return_hidden: bool = False):
        if not is_sparse(adj):
            adj = self.adjacency(adj, x.size(0))
        logits, hidden, _, _ = self._decode(self.code_input(x, adj), adj)
        return (logits, hidden) if return_hidden else logits

    def loss_forward(self, x: Tensor, adj: Tensor) -> tuple[Tensor, Tensor]:
        """The logits and the tokenizer's loss (node and edge reconstruction, commitment) of one
        full-graph training step; the edges reconstructed are ``adj``'s with self-loops."""
        if not is_sparse(adj):
            adj = self.adjacency(adj, x.size(0))
        h = self.code_input(x, adj)
        logits, _, straight, z = self._decode(h, adj)
        crow, col = adj.crow_indices(), adj.col_indices()
        rows = torch.repeat_interleave(torch.arange(crow.numel() - 1, device=crow.device), crow.diff())
        edges, _ = add_remaining_self_loops(torch.stack([col, rows]), num_nodes=x.size(0))
        loss = self.node_weight * F.mse_loss(h, self.decode_node(straight))
        loss = loss + self.edge_weight * edge_reconstruction_loss(z, edges)
        loss = loss + self.commitment_weight * F.mse_loss(straight.detach(), h)
        return logits, loss
