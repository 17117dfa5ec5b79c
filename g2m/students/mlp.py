"""The MLP student: node features in, logits (or embeddings) out; no graph needed."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.nn.models import MLP as PygMLP

from g2m.layers import make_norm, renamed_prefix
from g2m.methods import HIDDEN_POINTS
from g2m.ops.sparse import dropout


class MLP(PygMLP):
    r"""PyG's :class:`~torch_geometric.nn.models.MLP` (``lins``, ``norms``, ``reset_parameters``)
    with the students' ``forward``:

    .. math::
        h^{0} = \mathrm{dropout}_{p_0}(x), \quad
        h^{l+1} = \mathrm{dropout}_p(\mathrm{ReLU}(\mathrm{norm}(W^l h^l + b^l))), \quad
        z = W^L h^L + b^L

    (an input dropout before the first layer, as the GLNN and NOSMOG students; CSR features
    accepted), and the hidden representation at ``hidden_at`` on request.

    Args:
        in_dim: input features.
        out_dim: outputs (classes, or a link embedding's width).
        hidden: width of the hidden layers.
        num_layers: layers, the output layer included.
        dropout: dropout :math:`p` after every hidden layer.
        norm: ``none`` | ``batch`` | ``layer`` after every hidden layer (:func:`g2m.layers.make_norm`).
        input_dropout: dropout :math:`p_0` on the input features.
        hidden_at: ``input`` (the last layer's input) or ``pre-activation`` (the last hidden
            layer's output before its norm and ReLU, NOSMOG's).

    Shapes:
        - **input:** node features :math:`(N, F)`, dense or CSR.
        - **output:** :math:`(N, C)`, and with ``return_hidden`` the hidden representation
          :math:`(N, \text{hidden})`.

    Example:
        >>> import torch
        >>> from g2m.students.mlp import MLP
        >>> mlp = MLP(in_dim=8, out_dim=3, hidden=16)
        >>> logits, hidden = mlp(torch.randn(5, 8), return_hidden=True)
        >>> tuple(logits.shape), tuple(hidden.shape), len(mlp.lins)
        ((5, 3), (5, 16), 2)
    """

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
        if num_layers < 1:
            raise ValueError("num_layers must be at least 1")
        if hidden_at not in HIDDEN_POINTS:
            raise ValueError(f"hidden_at must be one of {HIDDEN_POINTS}, got {hidden_at!r}")
        if hidden_at == "pre-activation" and num_layers < 2:
            raise ValueError("hidden_at='pre-activation' needs a hidden layer: num_layers >= 2")
        # PyG's MLP draws its layers twice (built, then reset_parameters): draw them once from the
        # seed's stream, as torch.nn.Linear does, so a seed gives the student it always gave
        with torch.random.fork_rng(devices=[]):
            super().__init__(
                in_channels=in_dim,
                hidden_channels=hidden,
                out_channels=out_dim,
                num_layers=num_layers,
                dropout=dropout,
                norm=None,
                plain_last=True,
            )
        self.reset_parameters()
        self.norms = nn.ModuleList(make_norm(norm, hidden) for _ in range(num_layers - 1))
        self.dropout_p, self.input_dropout, self.hidden_at = dropout, input_dropout, hidden_at
        self.register_load_state_dict_pre_hook(renamed_prefix("layers.", "lins."))  # saved before PyG's MLP

    def forward(self, x: Tensor, return_hidden: bool = False) -> Any:  # type: ignore[override]
        """Logits, and with ``return_hidden`` the hidden representation at ``hidden_at``: the last
        layer's input (``"input"``) or the last hidden layer's pre-activation (NOSMOG's)."""
        h = dropout(x, self.input_dropout, self.training)  # x may be CSR (sparse_features)
        pre = h
        for lin, norm in zip(self.lins[:-1], self.norms):
            pre = lin(h)
            h = nn.functional.dropout(torch.relu(norm(pre)), self.dropout_p, self.training)
        out = self.lins[-1](h)
        if not return_hidden:
            return out
        return out, (h if self.hidden_at == "input" else pre)
