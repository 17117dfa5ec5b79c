"""The link trainers' batches and chunked steps: a step scored and backpropagated in chunks of pairs
and anchors equals the same step in one piece, values and gradients; batches cover each edge and
node once per epoch, in LLP's shares; mini-batch training learns."""

import pytest
import torch

import g2m.training.link as link
from g2m.config import LinkStudentConfig, LinkTeacherConfig
from g2m.data import load_dataset, make_link_split
from g2m.data.sampling import sample_contexts, to_csr
from g2m.losses.link import link_bce, llp_dist_loss, llp_rank_loss, logit_matching_loss
from g2m.teachers.link import LinkScorer
from g2m.training.chunked import ChunkedBackward
from g2m.training.link import distill_link_student, link_batches, train_link_teacher


def _problem(seed=0, n=40, d=8):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    x = torch.randn(n, 5, generator=g)
    edges = torch.randint(0, n, (2, 120), generator=g)
    csr = to_csr(torch.cat([edges, edges.flip(0)], 1), n)
    ctx = sample_contexts(csr, torch.arange(n), 2, 3, 1.5, g, walker="g2m")
    pos, neg = torch.randint(0, n, (2, 30), generator=g), torch.randint(0, n, (2, 33), generator=g)
    return x, ctx, pos, neg, torch.nn.Linear(5, d), LinkScorer("mlp", d), LinkScorer("mlp", d).eval(), torch.randn(n, d)


@pytest.mark.parametrize("chunk", [1, 7, 1 << 14])
@pytest.mark.parametrize("average", ["informative-pairs", "all-pairs"])
@pytest.mark.parametrize("scale", ["prob", "logit"])
def test_a_chunked_step_equals_the_step_in_one_piece(monkeypatch, chunk, average, scale):
    x, ctx, pos, neg, enc, scorer, t_scorer, t_h = _problem()
    cfg = LinkStudentConfig(method="llp", margin=0.05, rank_average=average, relational_scores=scale, tau=0.7)
    weights = {"sup": 0.3, "rank": 1.0, "dist": 2.0, "logit": 0.5, "repr": 0.0}
    params = [*enc.parameters(), *scorer.parameters()]

    monkeypatch.setattr(link, "PAIR_CHUNK", chunk)
    chunked = ChunkedBackward(enc(x))
    teacher = link.PairTeacher(lambda u, v: t_scorer(t_h[u], t_h[v]), t_h)
    values = link._edge_terms(chunked, scorer, pos, neg, weights, teacher)
    values.update(
        link._relational_terms(chunked, scorer, ctx, ctx.anchor, ctx.context, ctx.group, teacher, cfg, weights)
    )
    loss = chunked.finish()
    loss.backward()
    grads = [p.grad.clone() for p in params]
    for p in params:
        p.grad = None

    h = enc(x)  # the same step, in one piece, from the losses' plain forms
    s_pos, s_neg = scorer.score_pairs(h, pos), scorer.score_pairs(h, neg)
    with torch.no_grad():
        t_pairs = t_scorer.score_pairs(t_h, torch.cat([pos, neg], 1))
        t = t_scorer(t_h[ctx.anchor], t_h[ctx.context])
    s = scorer(h[ctx.anchor], h[ctx.context])
    if scale == "prob":
        s, t = s.sigmoid(), t.sigmoid()
    ref = {
        "sup": link_bce(s_pos, s_neg),
        "logit": logit_matching_loss(torch.cat([s_pos, s_neg]), t_pairs),
        "rank": llp_rank_loss(s, t, ctx.group, cfg.margin, ctx.num_groups, average),
        "dist": llp_dist_loss(s, t, ctx.group, ctx.num_groups, cfg.tau),
    }
    total = sum(weights[k] * v for k, v in ref.items())
    total.backward()
    torch.testing.assert_close(loss, total.detach())
    for k, v in ref.items():
        assert values[k] == pytest.approx(float(v.detach()), rel=1e-5, abs=1e-7)
    for got, want in zip(grads, (p.grad for p in params)):
        torch.testing.assert_close(got, want)


def test_one_batch_of_every_node_draws_nothing():
    gen = torch.Generator().manual_seed(3)
    state = gen.get_state()
    nodes = torch.arange(10)
    (batch,) = link_batches(50, 65536, nodes, gen)
    assert batch.edges is None and torch.equal(batch.nodes, nodes) and torch.equal(gen.get_state(), state)
    (batch,) = link_batches(50, 0, nodes, gen)  # 0: all edges in one step
    assert batch.edges is None


def test_batches_cover_each_edge_and_node_once_in_llps_shares():
    gen = torch.Generator().manual_seed(0)
    nodes = torch.arange(100, 1100)  # 1,000 nodes
    batches = link_batches(2500, 1000, nodes, gen)  # 3 batches; node shares of int(1000 / 2.5) = 400
    assert [b.edges.numel() for b in batches] == [1000, 1000, 500]
    assert [b.nodes.numel() for b in batches] == [400, 400, 200]
    assert torch.equal(torch.cat([b.edges for b in batches]).sort().values, torch.arange(2500))
    assert torch.equal(torch.cat([b.nodes for b in batches]).sort().values, nodes)
    capped = link_batches(2500, 1000, nodes, gen, anchors=100)  # at most 100 anchors, in proportion
    assert [b.nodes.numel() for b in capped] == [40, 40, 20]
    teacher = link_batches(2500, 1000, nodes[:0], gen)  # edges only
    assert len(teacher) == 3 and all(b.nodes.numel() == 0 for b in teacher)
    with pytest.raises(ValueError, match="batch_size"):
        link_batches(10, -1, nodes, gen)


GRAPH = dict(num_nodes=600, num_classes=4, avg_degree=8, homophily=0.9, feature_signal=3.0, num_features=16)


def test_mini_batch_teacher_and_llp_learn():
    g = load_dataset("csbm", **GRAPH)
    split = make_link_split(g, "transductive", seed=0)
    assert split.train_pos.size(1) > 1000  # batches of 500 edges: several optimiser steps per epoch
    teacher = train_link_teacher(
        g, split, LinkTeacherConfig(hidden=32, epochs=60, patience=30, batch_size=500), seed=0, progress=False
    )
    assert teacher.scores["rocauc"] > 0.75
    cfg = LinkStudentConfig(method="llp", hidden=32, epochs=60, patience=30, anchors_per_epoch=0, batch_size=500)
    out = distill_link_student(g, split, teacher.embeddings, teacher.scorer, cfg, seed=0, progress=False)
    assert out.scores["rocauc"] > 0.6
    assert {"sup", "rank", "dist"} <= set(out.fit.history[-1])


def test_a_step_without_edge_terms_scores_no_edge():
    x, ctx, pos, neg, enc, scorer, t_scorer, t_h = _problem()
    chunked = ChunkedBackward(enc(x))
    assert link._edge_terms(chunked, scorer, pos, neg, {"sup": 0.0, "logit": 0.0}) == {}
    cfg = LinkStudentConfig(method="llp", w_sup=0.0, hidden=8, epochs=2, patience=2, anchors_per_epoch=0)
    g = load_dataset("csbm", **GRAPH)
    split = make_link_split(g, "transductive", seed=0)
    out = distill_link_student(g, split, torch.randn(g.num_nodes, 8), LinkScorer("mlp", 8).eval(), cfg, progress=False)
    assert "sup" not in out.fit.history[-1] and {"rank", "dist"} <= set(out.fit.history[-1])
