"""What TINED reads from a GraphSAGE teacher: its transforms in DGL's step order, and each step's DE ratio."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.utils import add_remaining_self_loops

from g2m.losses.dirichlet import FT, GP, TeacherLayers, dirichlet_energy, step_order
from g2m.teachers.injection import sage_layers
from g2m.teachers.models import build_teacher


def graph(n: int = 12, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    e = torch.randint(0, n, (2, 30), generator=gen)
    e = e[:, e[0] != e[1]]
    return torch.randn(n, 10, generator=gen), torch.unique(torch.cat([e, e.flip(0)], dim=1), dim=1)


def test_step_order_is_dgls():
    assert step_order(10, 4) == (FT, GP)  # narrowing: transform first
    assert step_order(4, 4) == (GP, FT) and step_order(4, 8) == (GP, FT)


def test_layers_and_ratios_match_a_dense_recomputation():
    x, edges = graph()
    torch.manual_seed(0)
    teacher = build_teacher("sage", 10, 3, hidden=6, num_layers=2, dropout=0.0, sage_aggr="gcn")
    layers = sage_layers(teacher, x, edges)
    n = x.size(0)
    loops, _ = add_remaining_self_loops(edges, num_nodes=n)
    mean = torch.zeros(n, n)
    mean[loops[1], loops[0]] = 1
    mean /= mean.sum(1, keepdim=True)
    w0, b0 = teacher.convs[0].lin_l.weight, teacher.convs[0].lin_l.bias
    w1, b1 = teacher.convs[1].lin_l.weight, teacher.convs[1].lin_l.bias
    with torch.no_grad():
        ft0 = x @ w0.t()
        gp0 = mean @ ft0
        h1 = torch.relu(gp0 + b0)
        ft1 = h1 @ w1.t()
        gp1 = mean @ ft1
        assert torch.allclose(gp1 + b1, teacher(x, edges), atol=1e-5)  # the steps are the teacher
    pairs = [(x, ft0), (ft0, gp0), (h1, ft1), (ft1, gp1)]
    expected = torch.stack([dirichlet_energy(b, edges) / dirichlet_energy(a, edges) for a, b in pairs])
    assert torch.allclose(layers.de_ratios, expected, atol=1e-5)
    assert float(layers.de_ratios[1]) < 1 and float(layers.de_ratios[3]) < 1  # propagation smooths
    assert torch.equal(layers.weights[0], w0.detach()) and torch.equal(layers.biases[1], b1.detach())
    assert layers.steps() == [(FT, 10, 6), (GP, 6, 6), (FT, 6, 3), (GP, 3, 3)]


def test_round_trip_through_the_cache_tensors():
    x, edges = graph()
    torch.manual_seed(0)
    layers = sage_layers(build_teacher("sage", 10, 3, hidden=6, sage_aggr="gcn"), x, edges)
    back = TeacherLayers.from_tensors({"logits": torch.zeros(1), **layers.tensors()})
    assert back is not None and torch.equal(back.de_ratios, layers.de_ratios)
    assert all(torch.equal(a, b) for a, b in zip(back.weights, layers.weights))
    assert TeacherLayers.from_tensors({"logits": torch.zeros(1)}) is None


def test_a_teacher_tined_cannot_read_is_refused():
    x, edges = graph()
    with pytest.raises(ValueError, match="sage_aggr 'gcn'"):
        sage_layers(build_teacher("sage", 10, 3, sage_aggr="mean"), x, edges)
    with pytest.raises(ValueError, match="sage_aggr 'gcn'"):
        sage_layers(build_teacher("gcn", 10, 3), x, edges)
    with pytest.raises(ValueError, match="two steps per layer"):
        TeacherLayers((torch.zeros(3, 4),), (torch.zeros(3),), torch.ones(3))
