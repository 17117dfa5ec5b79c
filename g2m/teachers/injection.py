r"""What TINED (Zhou et al., ICML 2025) takes from a teacher: each layer's feature transform and
each step's Dirichlet energy ratio.

A GraphSAGE layer with DGL's ``gcn`` aggregator is a *feature transform* (FT) :math:`h W^\top` and
a *graph propagation* (GP) :math:`\mathrm{mean}_{j \in N(i) \cup \{i\}} h_j`, plus a bias. They
commute; DGL runs the FT first where it narrows the features (:math:`d_{in} > d_{out}`) and the GP
first otherwise, and TINED's student follows that order (:class:`g2m.students.injected.InjectedMLP`).
For each step the teacher's DE ratio :math:`E(\text{out}) / E(\text{in})`
(:func:`g2m.losses.dirichlet.dirichlet_energy`, biases left out as in DGL's ``fc_neigh``) is what
the student's matching layer learns to reproduce.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch_geometric.utils import add_remaining_self_loops, spmm

from g2m.losses.dirichlet import dirichlet_energy
from g2m.ops.sparse import csr_adjacency, is_sparse
from g2m.teachers.models import GNN

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


def has_injectable_layers(model: GNN) -> bool:
    """Whether TINED can read ``model``: GraphSAGE with DGL's gcn aggregator (TINED's teacher)."""
    return isinstance(model, GNN) and model.kind == "sage" and model.self_loops


@torch.no_grad()
def sage_layers(model: GNN, x: Tensor, edge_index: Tensor) -> TeacherLayers:
    r"""``model``'s feature transforms and the DE ratio of each of its steps on the graph ``(x,
    edge_index)`` (the graph it was trained on), in eval mode.

    Shapes:
        ``x`` ``[N, F]`` (dense), ``edge_index`` ``[2, E]`` (both directions, no self-loops needed).
    """
    if not has_injectable_layers(model):
        raise ValueError(
            "TINED reads a GraphSAGE teacher with DGL's gcn aggregator (sage, sage_aggr 'gcn'), as its "
            "official code trains; use -t sage with --recipe tined"
        )
    was_training = model.training
    model.eval()
    n = x.size(0)
    loops, _ = add_remaining_self_loops(edge_index, num_nodes=n)
    adj_t = csr_adjacency(loops, n)
    h = x.to_dense() if is_sparse(x) else x
    weights, biases, ratios = [], [], []
    last = len(model.layers) - 1
    for i, layer in enumerate(model.layers):
        lin: nn.Linear = layer.lin_l  # type: ignore[assignment]  # PyG's SAGEConv Linear
        weight = lin.weight.detach()
        bias = lin.bias.detach() if lin.bias is not None else torch.zeros(weight.size(0), device=weight.device)
        d_out, d_in = weight.shape
        for kind in step_order(d_in, d_out):
            out = h @ weight.t() if kind == FT else spmm(adj_t, h, reduce="mean")
            ratios.append(dirichlet_energy(out, edge_index, n) / dirichlet_energy(h, edge_index, n))
            h = out
        h = h + bias
        if i < last:
            h = torch.relu(model.norms[i](h))
        weights.append(weight.cpu().clone())
        biases.append(bias.cpu().clone())
    model.train(was_training)
    return TeacherLayers(tuple(weights), tuple(biases), torch.stack(ratios).float().cpu())
