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

import torch
from torch import Tensor, nn
from torch_geometric.utils import add_remaining_self_loops, spmm

from g2m.losses.dirichlet import FT, TeacherLayers, dirichlet_energy, step_order
from g2m.ops.sparse import csr_adjacency, is_sparse
from g2m.teachers.models import GNN


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
    last = len(model.convs) - 1
    for i, layer in enumerate(model.convs):
        lin: nn.Linear = layer.lin_l  # type: ignore[assignment]  # PyG's SAGEConv Linear
        weight = lin.weight.detach()
        bias = lin.bias.detach() if lin.bias is not None else torch.zeros(weight.size(0), device=weight.device)
        d_out, d_in = weight.shape
        energy = dirichlet_energy(h, edge_index, n)
        for kind in step_order(d_in, d_out):
            out = h @ weight.t() if kind == FT else spmm(adj_t, h, reduce="mean")
            out_energy = dirichlet_energy(out, edge_index, n)  # the next step's input: computed once
            ratios.append(out_energy / energy)
            h, energy = out, out_energy
        h = h + bias
        if i < last:
            h = torch.relu(model.norms[i](h))
        weights.append(weight.cpu().clone())
        biases.append(bias.cpu().clone())
    model.train(was_training)
    return TeacherLayers(tuple(weights), tuple(biases), torch.stack(ratios).float().cpu())
