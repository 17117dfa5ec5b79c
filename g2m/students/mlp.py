"""The MLP student: node features in, logits (or embeddings) out; no graph needed."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from g2m.layers import make_norm
from g2m.ops.sparse import dropout


class MLP(nn.Module):
    r""":math:`h^{l+1} = \mathrm{dropout}(\mathrm{ReLU}(\mathrm{norm}(W^l h^l)))`, linear output layer."""

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        hidden: int = 256,
        num_layers: int = 2,
        dropout: float = 0.5,
        norm: str = "none",
        input_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError("num_layers must be at least 1")
        dims = [in_dim] + [hidden] * (num_layers - 1) + [out_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.norms = nn.ModuleList(make_norm(norm, hidden) for _ in range(num_layers - 1))
        self.dropout, self.input_dropout = dropout, input_dropout

    def forward(self, x: Tensor, return_hidden: bool = False):
        h = dropout(x, self.input_dropout, self.training)  # x may be CSR (sparse_features)
        for layer, norm in zip(self.layers[:-1], self.norms):
            h = nn.functional.dropout(torch.relu(norm(layer(h))), self.dropout, self.training)
        out = self.layers[-1](h)
        return (out, h) if return_hidden else out
