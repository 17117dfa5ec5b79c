"""Neighbour-free mini-batch FF-G2M: LFD from the seeds alone (exactly the full LFD when the batches
cover the nodes), HFD on sampled edges (unbiased), and the student trained that way."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
import torch

from g2m.config import StudentConfig, student_config
from g2m.data.csbm import csbm_tensors
from g2m.data.graph import make_graph
from g2m.data.splits import make_node_split
from g2m.losses.node import hfd_loss, lfd_loss, lfd_loss_on, lfd_target, teacher_agreement
from g2m.training.node_student import distill_node_student


def _graph(n=40, c=4, seed=0):
    x, y, e = csbm_tensors(num_nodes=n, num_classes=c, avg_degree=4, num_features=8, seed=seed)
    return make_graph("g", x, y, e)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("tau", [1.0, 2.0])
def test_lfd_shares_over_a_partition_sum_to_the_full_loss(weighted, tau):
    g = _graph()
    torch.manual_seed(0)
    t = torch.randn(g.num_nodes, g.num_classes) * 2
    weight = teacher_agreement(t, g.edge_index) if weighted else None
    s = torch.randn(g.num_nodes, g.num_classes, requires_grad=True)
    full = lfd_loss(s, t, g.edge_index, tau, chunk_size=7, edge_weight=weight)
    (full_grad,) = torch.autograd.grad(full, s)
    target = lfd_target(t, g.edge_index, tau, chunk_size=7, edge_weight=weight)
    parts = torch.randperm(g.num_nodes).tensor_split(5)
    total = sum(lfd_loss_on(s[idx], target, idx, tau, reduction="share") for idx in parts)
    (grad,) = torch.autograd.grad(total, s)
    torch.testing.assert_close(total, full, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(grad, full_grad, atol=1e-7, rtol=1e-6)
    idx = parts[0]  # "mean": the share rescaled to the batch's own in-edges
    share = lfd_loss_on(s[idx], target, idx, tau, reduction="share")
    mean = lfd_loss_on(s[idx], target, idx, tau, reduction="mean")
    torch.testing.assert_close(mean, share * float(target.total) / target.in_weight[idx].sum())


def test_lfd_mean_is_the_mean_kl_over_the_batch_in_edges():
    """Against a dense reference: the mean of KL(p^T_j || p^S_i) over the edges (j, i) into the batch."""
    g = _graph(n=12, c=3)
    t, s = torch.randn(12, 3), torch.randn(12, 3)
    idx = torch.tensor([0, 3, 5, 7])
    target = lfd_target(t, g.edge_index)
    edges = torch.cat([g.edge_index, torch.arange(12).repeat(2, 1)], dim=1)  # with self-loops
    into = torch.isin(edges[1], idx)
    p_t, log_p_s = t.softmax(-1), s.log_softmax(-1)
    kl = (p_t[edges[0]] * (p_t[edges[0]].log() - log_p_s[edges[1]])).sum(-1)
    torch.testing.assert_close(lfd_loss_on(s[idx], target, idx, reduction="mean"), kl[into].mean())


def test_sampled_hfd_is_unbiased():
    """Averaged over every equally likely sample of m edges (without replacement), the sampled HFD
    is the full HFD, weighted or not."""
    g = _graph(n=8, c=3, seed=2)
    one_way = g.edge_index[:, g.edge_index[0] < g.edge_index[1]][:, :7]
    t, s = torch.randn(8, 3), torch.randn(8, 3)
    for weight in (None, torch.rand(one_way.size(1))):
        full = hfd_loss(s, t, one_way, 0.7, edge_weight=weight)
        samples = [torch.tensor(c) for c in itertools.combinations(range(one_way.size(1)), 3)]
        estimates = [
            hfd_loss(s, t, one_way[:, c], 0.7, edge_weight=None if weight is None else weight[c]) for c in samples
        ]
        torch.testing.assert_close(torch.stack(estimates).mean(), full, atol=1e-6, rtol=1e-6)


@pytest.fixture(scope="module")
def setup():
    x, y, e = csbm_tensors(
        num_nodes=600, num_classes=4, avg_degree=6, homophily=0.8, feature_signal=0.7, num_features=16, seed=1
    )
    g = make_graph("c", x, y, e)
    split = make_node_split(g, "random", "transductive", 0)
    from g2m.config import TeacherConfig
    from g2m.training.node_teacher import train_node_teacher

    teacher = train_node_teacher(g, split, TeacherConfig(hidden=32, epochs=100), 0, progress=False)
    return g, split, teacher


@pytest.mark.parametrize("method", ["lfd", "hfd", "ffg2m", "ffg2m_safe"])
def test_minibatch_students_learn_from_the_teacher(setup, method):
    g, split, teacher = setup
    cfg = replace(student_config(None, method, "gcn"), hidden=32, epochs=60, patience=60, batch_size=128)
    mini = distill_node_student(g, split, teacher.logits, cfg, 0, progress=False)
    mlp = distill_node_student(
        g, split, None, replace(cfg, method="mlp", edge_weighting="none", guard=False), 0, progress=False
    )
    assert mini.scores["test"] > mlp.scores["test"] + 0.05, (mini.scores, mlp.scores)
    history = mini.fit.history[-1]
    assert {"lfd": method != "hfd", "hfd": method != "lfd"} == {k: k in history for k in ("lfd", "hfd")}


def test_hfd_edges_per_epoch_bounds_the_sample(setup, monkeypatch):
    import g2m.losses.terms as terms

    g, split, teacher = setup
    seen = []
    real = terms.hfd_loss

    def spy(logits, teacher_logits, edge_index, *args, **kwargs):
        seen.append(edge_index.size(1))
        return real(logits, teacher_logits, edge_index, *args, **kwargs)

    monkeypatch.setattr(terms, "hfd_loss", spy)
    cfg = replace(
        student_config(None, "ffg2m", "gcn"), hidden=16, epochs=1, patience=1, batch_size=100, hfd_edges_per_epoch=60
    )
    distill_node_student(g, split, teacher.logits, cfg, 0, progress=False)
    assert sum(seen) == 60 and len(seen) == 6  # 600 nodes / 100 per batch, 10 edges each
    with pytest.raises(ValueError, match=r"hfd_edges_per_epoch must be in \[1, inf\)"):
        StudentConfig(hfd_edges_per_epoch=0)
