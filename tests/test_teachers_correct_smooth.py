"""Correct and Smooth after a teacher: against a dense reference, training labels only, and the
inductive setting's observed rows blind to the held-out nodes."""

from dataclasses import replace

import pytest
import torch

from g2m.data import load_dataset, make_node_split
from g2m.teachers.correct_smooth import EPS, correct_and_smooth, correct_and_smooth_split

GRAPH = dict(num_nodes=300, num_classes=3, avg_degree=6, homophily=0.8, feature_signal=0.5, num_features=8)


def _dense_reference(logits, y_train, train, edge_index, a1, a2, layers):
    """C&S written out densely: S = D^-1/2 A D^-1/2, autoscaled correction, label smoothing."""
    n, c = logits.shape
    adj = torch.zeros(n, n, dtype=torch.float64)
    adj[edge_index[1], edge_index[0]] = 1.0
    deg = adj.sum(1)
    inv = torch.where(deg > 0, deg.pow(-0.5), torch.zeros_like(deg))
    s = inv[:, None] * adj * inv[None, :]
    z = logits.double().softmax(-1)
    y = torch.nn.functional.one_hot(y_train, c).double()
    err = torch.zeros_like(z)
    err[train] = y - z[train]
    e = err.clone()
    for _ in range(layers):
        e = (a1 * s @ e + (1 - a1) * err).clamp(-1, 1)
    sigma = err[train].abs().sum() / train.numel()
    scale = sigma / e.abs().sum(1, keepdim=True)
    scale[scale.isinf() | (scale > 1000)] = 1.0
    zhat = z + scale * e
    g = zhat.clone()
    g[train] = y
    h = g.clone()
    for _ in range(layers):
        h = (a2 * s @ h + (1 - a2) * g).clamp(0, 1)
    h = h.clamp_min(EPS)
    return (h / h.sum(1, keepdim=True)).log()


@pytest.mark.parametrize("alphas", [(0.5, 0.8), (1.0, 0.5)])
def test_matches_dense_reference(alphas):
    torch.manual_seed(0)
    g = load_dataset("csbm", **GRAPH)
    train = torch.randperm(g.num_nodes)[:40]
    logits = torch.randn(g.num_nodes, 3)
    y = g.require_labels()
    out = correct_and_smooth(logits, y[train], train, g.edge_index, *alphas, num_layers=10)
    expected = _dense_reference(logits, y[train], train, g.edge_index, *alphas, 10)
    torch.testing.assert_close(out.double(), expected, rtol=1e-4, atol=1e-4)
    assert out.shape == logits.shape and torch.allclose(out.exp().sum(-1), torch.ones(g.num_nodes))


def test_smoothing_helps_a_noisy_teacher_on_a_homophilous_graph():
    torch.manual_seed(0)
    g = load_dataset("csbm", **GRAPH)
    y = g.require_labels()
    split = make_node_split(g, "random", seed=0)
    # a weak teacher: the right class by a small margin, buried in noise
    noisy = 0.6 * torch.nn.functional.one_hot(y, 3).float() + torch.randn(g.num_nodes, 3)
    smoothed = correct_and_smooth_split(noisy, g, split)
    before = (noisy[split.test].argmax(-1) == y[split.test]).float().mean()
    after = (smoothed[split.test].argmax(-1) == y[split.test]).float().mean()
    assert after > before + 0.1


def test_only_training_labels_enter():
    torch.manual_seed(0)
    g = load_dataset("csbm", **GRAPH)
    split = make_node_split(g, "random", seed=0)
    logits = torch.randn(g.num_nodes, 3)
    out = correct_and_smooth_split(logits, g, split)
    y = g.require_labels().clone()
    held = torch.cat([split.val, split.test])
    y[held] = (y[held] + 1) % 3  # every validation and test label changed
    relabelled = replace(g, y=y)
    torch.testing.assert_close(correct_and_smooth_split(logits, relabelled, split), out)


def test_inductive_observed_rows_ignore_the_held_out_nodes():
    torch.manual_seed(0)
    g = load_dataset("csbm", **GRAPH)
    split = make_node_split(g, "random", "inductive", seed=0)
    logits = torch.randn(g.num_nodes, 3)
    out = correct_and_smooth_split(logits, g, split)
    changed = logits.clone()
    changed[split.test_ind] = torch.randn(split.test_ind.numel(), 3) * 10
    again = correct_and_smooth_split(changed, g, split)
    torch.testing.assert_close(again[split.observed], out[split.observed])
    assert not torch.allclose(again[split.test_ind], out[split.test_ind])


def test_bad_arguments():
    ei = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="correction_alpha must be in"):
        correct_and_smooth(torch.zeros(2, 2), torch.tensor([0]), torch.tensor([0]), ei, correction_alpha=1.5)
    with pytest.raises(ValueError, match="one label per training node"):
        correct_and_smooth(torch.zeros(2, 2), torch.tensor([0, 1]), torch.tensor([0]), ei)
    with pytest.raises(ValueError, match="num_layers"):
        correct_and_smooth(torch.zeros(2, 2), torch.tensor([0]), torch.tensor([0]), ei, num_layers=0)
