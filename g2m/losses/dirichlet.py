r"""Dirichlet energy and TINED's Dirichlet energy distillation (Zhou et al., ICML 2025).

The Dirichlet energy of node features :math:`X` on a graph of :math:`n` nodes, rows normalised
first (TINED's ``compute_dirichlet_energy``; the norms are constants to the gradient):

.. math:: E(X) = \frac{1}{n} \sum_{(i, j) \in \mathcal{E}} \lVert \hat x_i - \hat x_j \rVert^2,
          \qquad \hat x_i = x_i / \lVert x_i \rVert

(a zero row stays zero). A layer :math:`f` smooths its input when its *DE ratio*
:math:`E(f(X)) / E(X)` is below one. TINED matches each student layer's ratio :math:`r_l` to the
teacher's step it stands for, :math:`t_l`, on the log scale by default (``log=True``):

.. math:: \mathcal{L}_{DED} = \sum_l \bigl(\tfrac12 \log r_l - \tfrac12 \log t_l\bigr)^2
          \quad\text{or}\quad \sum_l \bigl(r_l^{1/2} - t_l^{1/2}\bigr)^2 \ (\texttt{log=False}),

the square roots being the official code's default (``sqrt_DER``). :class:`TeacherLayers` holds what
the term reads from a teacher (:func:`g2m.teachers.injection.sage_layers` builds it).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

#: an energy below this share of :math:`\sum_{(i,j)} (\lVert\hat x_i\rVert^2 + \lVert\hat x_j\rVert^2)` is 0
#: (rows equal along every edge, up to float rounding; the official per-edge form gives exactly 0)
RELATIVE_ZERO = 1e-5


def dirichlet_energy(x: Tensor, edge_index: Tensor, num_nodes: int | None = None) -> Tensor:
    r"""The Dirichlet energy :math:`E(X)` of ``x`` over the directed edges ``edge_index`` (list both
    directions of an undirected edge, as PyG does), divided by ``num_nodes`` (default ``x.size(0)``).

    Computed as :math:`\frac1n \sum_{(i,j)} (\lVert\hat x_i\rVert^2 + \lVert\hat x_j\rVert^2) -
    \frac2n \sum_i \hat x_i \cdot \sum_{j:(i,j)} \hat x_j`: one sparse-dense product, never an
    ``[E, F]`` tensor of differences.

    Args:
        x: node features (dense).
        edge_index: the edges, ``(source, target)`` rows.
        num_nodes: the :math:`n` the sum is divided by.

    Shapes:
        ``x`` ``[N, F]``, ``edge_index`` ``[2, E]`` -> a scalar.

    Example:
        >>> import torch
        >>> x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
        >>> edges = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> dirichlet_energy(x, edges)  # four directed edges, each ||e_1 - e_2||^2 = 2, over 3 nodes
        tensor(2.6667)
    """
    if x.dim() != 2:
        raise ValueError(f"x must be [N, F], got shape {tuple(x.shape)}")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"edge_index must be [2, E], got shape {tuple(edge_index.shape)}")
    n = x.size(0) if num_nodes is None else num_nodes
    if n < 1:
        raise ValueError(f"num_nodes must be positive, got {n}")
    norm = x.detach().norm(dim=1, keepdim=True)
    norm = torch.where((norm == 0) | norm.isnan(), torch.ones_like(norm), norm)
    unit = x / norm
    squares = unit.pow(2).sum(dim=1)  # 1, or 0 for a zero row
    src, dst = edge_index
    ones = torch.ones_like(src, dtype=x.dtype)
    adjacency = torch.sparse_coo_tensor(
        edge_index, ones, (x.size(0), x.size(0)), device=x.device, check_invariants=False
    )
    neighbours = torch.sparse.mm(adjacency, unit)  # row i: the sum of i's neighbours' unit rows
    scale = squares[src].sum() + squares[dst].sum()
    total = scale - 2 * (unit * neighbours).sum()
    # rows equal across every edge cancel to rounding, not to 0: below RELATIVE_ZERO of the scale, 0
    total = torch.where(total > RELATIVE_ZERO * scale.detach(), total, torch.zeros_like(total))
    return total / n


def dirichlet_ratio(x_in: Tensor, x_out: Tensor, edge_index: Tensor, num_nodes: int | None = None) -> Tensor:
    r"""A layer's log DE ratio :math:`\log E(X_{out}) - \log E(X_{in})`, or 0 where either energy is 0
    (the official code's ratio 1).

    Shapes:
        ``x_in`` ``[N, F]``, ``x_out`` ``[N, F']``, ``edge_index`` ``[2, E]`` -> a scalar.

    Example:
        >>> import torch
        >>> edges = torch.tensor([[0, 1], [1, 0]])
        >>> x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> dirichlet_ratio(x, x.mean(0, keepdim=True).expand(2, 2), edges)  # fully smoothed: no energy left
        tensor(0.)
    """
    e_in = dirichlet_energy(x_in, edge_index, num_nodes)
    e_out = dirichlet_energy(x_out, edge_index, num_nodes)
    if float(e_in.detach()) == 0.0 or float(e_out.detach()) == 0.0:
        return torch.zeros((), device=x_out.device)
    return e_out.log() - e_in.log()


def dirichlet_distillation_loss(log_ratios: Tensor, log_targets: Tensor, log: bool = True) -> Tensor:
    r"""TINED's :math:`\mathcal{L}_{DED}`: the student's log DE ratios against the teacher's, per layer,
    halved (square roots of the ratios) and compared on the log scale (``log=True``) or as ratios.

    Args:
        log_ratios: the student's :math:`\log r_l`, one per layer that stands for a teacher step.
        log_targets: the teacher's :math:`\log t_l`, the same order.
        log: compare logs (TINED's ``DE_log``) rather than the ratios themselves.

    Shapes:
        ``log_ratios`` ``[L]``, ``log_targets`` ``[L]`` -> a scalar.

    Example:
        >>> import torch
        >>> dirichlet_distillation_loss(torch.tensor([0.0, -2.0]), torch.tensor([0.0, 0.0]))
        tensor(1.)
    """
    if log_ratios.shape != log_targets.shape or log_ratios.dim() != 1:
        raise ValueError(
            f"one ratio per teacher step: got {tuple(log_ratios.shape)} student and {tuple(log_targets.shape)} "
            "teacher ratios"
        )
    half, target = 0.5 * log_ratios, 0.5 * log_targets.to(log_ratios)
    if log:
        return (half - target).pow(2).sum()
    return (half.exp() - target.exp()).pow(2).sum()


def layerwise_dirichlet_loss(
    pairs: list[tuple[Tensor, Tensor]],
    log_targets: Tensor,
    edge_index: Tensor,
    num_nodes: int | None = None,
    log: bool = False,
) -> Tensor:
    r"""TINED's :math:`\mathcal{L}_{DED}` of a student run layer by layer: each layer's
    ``(input, output)`` gives its log DE ratio (:func:`dirichlet_ratio`), matched to the teacher's
    step in the same place (:func:`dirichlet_distillation_loss`).

    Args:
        pairs: each student layer's input and output, in order.
        log_targets: the teacher's log DE ratio of each step (:meth:`TeacherLayers.log_targets`).
        edge_index: the graph the energies are taken on.
        num_nodes: the :math:`n` of each energy (default: the rows of ``pairs``).
        log: compare logs rather than ratios (TINED's ``DE_log``).

    Shapes:
        each ``pairs`` entry ``([N, F], [N, F'])``, ``log_targets`` ``[L]``, ``edge_index`` ``[2, E]``
        -> a scalar.

    Example:
        >>> import torch
        >>> edges = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
        >>> layer = torch.nn.Linear(2, 2)
        >>> loss = layerwise_dirichlet_loss([(x, layer(x))], torch.zeros(1), edges)
        >>> loss.shape, loss.requires_grad
        (torch.Size([]), True)
    """
    if len(pairs) != log_targets.numel():
        raise ValueError(
            f"the student has {len(pairs)} layers and the teacher {log_targets.numel()} steps: TINED matches them "
            "one for one"
        )
    ratios = torch.stack([dirichlet_ratio(h_in, h_out, edge_index, num_nodes) for h_in, h_out in pairs])
    return dirichlet_distillation_loss(ratios, log_targets, log)


#: a teacher step: a feature transform or a graph propagation
FT, GP = "ft", "gp"


def step_order(d_in: int, d_out: int) -> tuple[str, str]:
    """The order of a layer's two steps, as DGL's SAGEConv runs them: FT first when it narrows."""
    return (FT, GP) if d_in > d_out else (GP, FT)


@dataclass(frozen=True)
class TeacherLayers:
    r"""A teacher's layers as TINED reads them.

    ``weights[l]`` ``[d_out, d_in]`` and ``biases[l]`` ``[d_out]``: layer ``l``'s feature transform;
    ``de_ratios`` ``[2L]``: the DE ratio of each step, in the order the layers run them
    (:func:`step_order`)."""

    weights: tuple[Tensor, ...]
    biases: tuple[Tensor, ...]
    de_ratios: Tensor

    def __post_init__(self) -> None:
        if not self.weights or len(self.weights) != len(self.biases):
            raise ValueError("TeacherLayers needs one weight and one bias per layer")
        if self.de_ratios.shape != (2 * len(self.weights),):
            raise ValueError(f"de_ratios must hold two steps per layer, got shape {tuple(self.de_ratios.shape)}")

    def steps(self) -> list[tuple[str, int, int]]:
        """``(kind, d_in, d_out)`` of every step in order; a GP keeps its width."""
        out = []
        for w in self.weights:
            d_out, d_in = w.shape
            for kind in step_order(d_in, d_out):
                if kind == FT:
                    out.append((FT, d_in, d_out))
                else:
                    width = d_out if d_in > d_out else d_in
                    out.append((GP, width, width))
        return out

    def log_targets(self) -> Tensor:
        """The ratios TINED's loss compares on the log scale: a ratio that is not finite (an energy of 0)
        counts as 1 (log 0), as the official code replaces it."""
        ratios = torch.where(torch.isfinite(self.de_ratios), self.de_ratios, torch.ones_like(self.de_ratios))
        return ratios.log()

    def tensors(self) -> dict[str, Tensor]:
        """The entries the teacher cache stores (:meth:`from_tensors` reads them back)."""
        out = {"de_ratios": self.de_ratios}
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            out[f"layer_weight.{i}"], out[f"layer_bias.{i}"] = w, b
        return out

    @classmethod
    def from_tensors(cls, tensors: dict[str, Tensor]) -> TeacherLayers | None:
        """The layers a cache entry holds, or None where it has none (another teacher, or older g2m)."""
        if "de_ratios" not in tensors:
            return None
        count = sum(1 for k in tensors if k.startswith("layer_weight."))
        return cls(
            tuple(tensors[f"layer_weight.{i}"] for i in range(count)),
            tuple(tensors[f"layer_bias.{i}"] for i in range(count)),
            tensors["de_ratios"],
        )
