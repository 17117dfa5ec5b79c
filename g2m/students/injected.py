r"""TINED's student (Zhou et al., ICML 2025; the official ``MLP_from_sequence_of_layers``): an MLP
whose fully connected layers follow the teacher's steps one for one.

For each teacher layer (:class:`g2m.teachers.injection.TeacherLayers`) the student has two linear
layers in the teacher's order: the *injected* feature transform, initialised from the teacher's
:math:`W, b`, and a square layer that stands for the graph propagation, initialised as the
identity (``propagation_init="identity"``) or at random. Norm, ReLU and dropout follow every
layer but the last, as in the official model:

.. math:: h^{k+1} = \mathrm{dropout}(\mathrm{ReLU}(\mathrm{norm}(W^k h^k + b^k))).

With position features the first layer is wider than the teacher's: the teacher's weight fills
the columns of the node features, the position columns start at random.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import torch
from torch import Tensor, nn

from g2m.layers import make_norm
from g2m.losses.dirichlet import FT, TeacherLayers
from g2m.ops.sparse import is_sparse


class InjectedMLP(nn.Module):
    r"""TINED's MLP: the teacher's steps as linear layers, its feature transforms injected.

    Args:
        layers: the teacher's transforms and steps.
        in_dim: the student's input width (the teacher's, plus any position features).
        dropout: dropout after each hidden layer.
        norm: normalisation of each hidden layer (``none``, ``batch``, ``layer``).
        propagation_init: ``identity`` or ``random`` (PyTorch's default) for the propagation layers.

    Shapes:
        ``x`` ``[N, in_dim]`` (dense or CSR) -> ``[N, C]`` logits; with ``return_hidden`` also the
        second to last layer's output before its norm ``[N, H]`` (the official ``h_list[-1]``).

    Example:
        >>> import torch
        >>> from g2m.losses.dirichlet import TeacherLayers
        >>> teacher = TeacherLayers((torch.randn(4, 6), torch.randn(3, 4)), (torch.zeros(4), torch.zeros(3)),
        ...                         torch.ones(4))
        >>> student = InjectedMLP(teacher, in_dim=6)
        >>> [tuple(layer.weight.shape) for layer in student.layers]  # FT, GP, FT, GP
        [(4, 6), (4, 4), (3, 4), (3, 3)]
        >>> student(torch.randn(5, 6)).shape
        torch.Size([5, 3])
    """

    def __init__(
        self,
        layers: TeacherLayers,
        in_dim: int,
        dropout: float = 0.0,
        norm: str = "none",
        propagation_init: str = "identity",
    ) -> None:
        super().__init__()
        if propagation_init not in ("identity", "random"):
            raise ValueError(f"propagation_init must be identity or random, got {propagation_init!r}")
        teacher_in = layers.weights[0].size(1)
        if in_dim < teacher_in:
            raise ValueError(
                f"the student's input ({in_dim} features) is narrower than the teacher's ({teacher_in}): "
                "TINED injects the teacher's first layer, so the student must read the same features"
            )
        #: the teacher's transforms' ``(d_out, d_in)``: what rebuilds this architecture (:meth:`empty`)
        self.teacher_shapes = [tuple(w.shape) for w in layers.weights]
        linears: list[nn.Linear] = []
        self.injected: list[nn.Linear] = []  # the feature transforms, the teacher's weights
        steps = layers.steps()
        width = in_dim
        for k, (kind, d_in, d_out) in enumerate(steps):
            layer = nn.Linear(width if k == 0 else d_in, d_out)
            with torch.no_grad():
                if kind == FT:
                    t = len(self.injected)
                    layer.weight[:, :d_in] = layers.weights[t]
                    layer.bias.copy_(layers.biases[t])
                    self.injected.append(layer)
                elif propagation_init == "identity":
                    layer.weight.copy_(torch.eye(d_out, layer.in_features, device=layer.weight.device))
                    layer.bias.zero_()
            linears.append(layer)
            width = d_out
        self.layers = nn.ModuleList(linears)
        self.norms = nn.ModuleList(make_norm(norm, layer.out_features) for layer in linears[:-1])
        self.dropout = dropout
        #: the width of the representation ``return_hidden`` gives (a similarity projector's input)
        self.hidden_size: int = linears[-2].out_features if len(linears) > 1 else in_dim

    @property
    def in_channels(self) -> int:
        """Input features (as PyG's MLP, which the plain student is)."""
        return cast(nn.Linear, self.layers[0]).in_features

    @property
    def out_channels(self) -> int:
        """Outputs (as PyG's MLP)."""
        return cast(nn.Linear, self.layers[-1]).out_features

    @classmethod
    def empty(cls, teacher_shapes: list[tuple[int, int]], in_dim: int, **kwargs) -> InjectedMLP:
        """The architecture alone, for weights that are loaded next (a saved student)."""
        weights = tuple(torch.zeros(*shape, device="cpu") for shape in teacher_shapes)
        biases = tuple(torch.zeros(shape[0], device="cpu") for shape in teacher_shapes)
        return cls(TeacherLayers(weights, biases, torch.ones(2 * len(weights), device="cpu")), in_dim, **kwargs)

    def injected_parameters(self) -> list[nn.Parameter]:
        """The feature transforms' weights and biases (TINED trains them at a scaled learning rate)."""
        return [p for layer in self.injected for p in layer.parameters()]

    def _steps(self, h: Tensor) -> Iterator[tuple[Tensor, Tensor]]:
        """Each linear layer's ``(input, output)``, in order, with norm, ReLU and dropout (in training
        mode) between them: the one forward both :meth:`stepwise` and :meth:`forward` run."""
        last = len(self.layers) - 1
        for k, layer in enumerate(self.layers):
            out = layer(h)
            yield h, out
            if k < last:
                h = nn.functional.dropout(torch.relu(self.norms[k](out)), self.dropout, self.training)

    def stepwise(self, x: Tensor) -> list[tuple[Tensor, Tensor]]:
        """``(input, output)`` of every linear layer, in training mode as configured: what TINED's
        Dirichlet energy term compares (outputs before the norm, inputs after the previous dropout)."""
        return list(self._steps(x.to_dense() if is_sparse(x) else x))

    def forward(self, x: Tensor, return_hidden: bool = False):
        hidden = out = x  # x may be CSR (sparse_features): the first layer is then a sparse product
        for _, step_out in self._steps(x):
            hidden, out = out, step_out  # hidden: the second to last layer's output, before its norm
        return (out, hidden) if return_hidden else out
