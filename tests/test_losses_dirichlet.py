"""TINED's Dirichlet energy and its distillation loss against dense references, values and gradients."""

from __future__ import annotations

import pytest
import torch

from g2m.losses.dirichlet import dirichlet_distillation_loss, dirichlet_energy, dirichlet_ratio


def dense_energy(x: torch.Tensor, edge_index: torch.Tensor, n: int) -> torch.Tensor:
    """TINED's compute_dirichlet_energy, literally: rows over their (detached) norms, per-edge squares."""
    norm = x.detach().norm(dim=1, keepdim=True)
    norm[norm == 0] = 1
    unit = x / norm
    src, dst = edge_index
    return (unit[src] - unit[dst]).pow(2).sum() / n


def random_graph(n: int = 30, m: int = 80, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    e = torch.randint(0, n, (2, m), generator=gen)
    e = e[:, e[0] != e[1]]
    return torch.cat([e, e.flip(0)], dim=1)


def test_energy_matches_the_dense_reference_in_value_and_gradient():
    edges = random_graph()
    x = torch.randn(30, 5, dtype=torch.float64)
    x[3] = 0  # a zero row stays zero
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours, ref = dirichlet_energy(a, edges), dense_energy(b, edges, 30)
    assert torch.allclose(ours, ref)
    ours.backward()
    ref.backward()
    assert torch.allclose(a.grad, b.grad)
    assert torch.allclose(dirichlet_energy(x, edges, num_nodes=10), dense_energy(x, edges, 10))


def test_energy_is_zero_for_constant_rows_and_scale_free():
    edges = random_graph()
    assert float(dirichlet_energy(torch.ones(30, 4), edges)) == pytest.approx(0.0, abs=1e-6)
    x = torch.rand(30, 4) + 0.1
    assert torch.allclose(dirichlet_energy(3 * x, edges), dirichlet_energy(x, edges))


def test_ratio_is_below_zero_when_a_layer_smooths():
    edges = random_graph()
    x = torch.randn(30, 6)
    adj = torch.zeros(30, 30)
    adj[edges[1], edges[0]] = 1
    adj += torch.eye(30)
    smoothed = adj @ adj @ x / adj.sum(1, keepdim=True) ** 2  # two mean propagations
    assert float(dirichlet_ratio(x, smoothed, edges)) < 0
    assert float(dirichlet_ratio(x, torch.ones(30, 6), edges)) == 0.0  # no energy left: ratio 1 (log 0)


def test_distillation_loss_compares_half_logs_or_square_roots():
    r = torch.tensor([0.3, -1.0], requires_grad=True)
    t = torch.tensor([0.1, -0.5])
    loss = dirichlet_distillation_loss(r, t)
    assert torch.allclose(loss, ((r - t) / 2).pow(2).sum())
    loss.backward()
    assert torch.allclose(r.grad, (r - t).detach() / 2)
    plain = dirichlet_distillation_loss(r.detach(), t, log=False)
    assert torch.allclose(plain, ((r.detach() / 2).exp() - (t / 2).exp()).pow(2).sum())
    with pytest.raises(ValueError, match="one ratio per teacher step"):
        dirichlet_distillation_loss(r, torch.zeros(3))


def test_bad_shapes_name_the_problem():
    with pytest.raises(ValueError, match=r"x must be \[N, F\]"):
        dirichlet_energy(torch.ones(3), torch.zeros(2, 1, dtype=torch.long))
    with pytest.raises(ValueError, match=r"edge_index must be \[2, E\]"):
        dirichlet_energy(torch.ones(3, 2), torch.zeros(3, 1, dtype=torch.long))


def test_layerwise_loss_function_and_module_are_twins():
    from g2m.losses.dirichlet import layerwise_dirichlet_loss
    from g2m.nn import DirichletLoss

    edges = random_graph()
    torch.manual_seed(0)
    x = torch.randn(30, 5)
    a, b = torch.nn.Linear(5, 4), torch.nn.Linear(4, 4)
    h = a(x)
    pairs = [(x, h), (torch.relu(h), b(torch.relu(h)))]
    targets = torch.tensor([0.2, -0.7])
    by_hand = dirichlet_distillation_loss(
        torch.stack([dirichlet_ratio(i, o, edges) for i, o in pairs]), targets, log=True
    )
    assert torch.allclose(layerwise_dirichlet_loss(pairs, targets, edges, log=True), by_hand)
    assert torch.allclose(DirichletLoss(log=True)(pairs, targets, edges), by_hand)
    with pytest.raises(ValueError, match="one for one"):
        layerwise_dirichlet_loss(pairs, torch.zeros(3), edges)
