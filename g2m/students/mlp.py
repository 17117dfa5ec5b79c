"""The MLP student: node features in, logits (or embeddings) out; no graph needed."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from g2m.layers import make_norm
from g2m.methods import HIDDEN_POINTS
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
        hidden_at: str = "input",
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError("num_layers must be at least 1")
        if hidden_at not in HIDDEN_POINTS:
            raise ValueError(f"hidden_at must be one of {HIDDEN_POINTS}, got {hidden_at!r}")
        if hidden_at == "pre-activation" and num_layers < 2:
            raise ValueError("hidden_at='pre-activation' needs a hidden layer: num_layers >= 2")
        dims = [in_dim] + [hidden] * (num_layers - 1) + [out_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.norms = nn.ModuleList(make_norm(norm, hidden) for _ in range(num_layers - 1))
        self.dropout, self.input_dropout, self.hidden_at = dropout, input_dropout, hidden_at

    def forward(self, x: Tensor, return_hidden: bool = False):
        """Logits, and with ``return_hidden`` the hidden representation at ``hidden_at``: the last
        layer's input (``"input"``) or the last hidden layer's pre-activation (NOSMOG's)."""
        h = dropout(x, self.input_dropout, self.training)  # x may be CSR (sparse_features)
        pre = h
        for layer, norm in zip(self.layers[:-1], self.norms):
            pre = layer(h)
            h = nn.functional.dropout(torch.relu(norm(pre)), self.dropout, self.training)
        out = self.layers[-1](h)
        if not return_hidden:
            return out
        return out, (h if self.hidden_at == "input" else pre)
