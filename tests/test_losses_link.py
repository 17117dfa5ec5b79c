"""LLP losses against direct loop-based references (values and gradients)."""

import itertools
import os

import pytest
import torch
import torch.nn.functional as F

from g2m.losses.link import (
    link_bce,
    llp_dist_loss,
    llp_rank_loss,
    logit_matching_loss,
    representation_matching_loss,
)
from g2m.ops import HAS_TORCH_SCATTER

BACKENDS = ["native"] + (
    ["torch_scatter"] if HAS_TORCH_SCATTER or os.environ.get("G2M_REQUIRE_TORCH_SCATTER") == "1" else []
)


def grouped(sizes, seed=0):
    g = torch.Generator().manual_seed(seed)
    group = torch.cat([torch.full((k,), i) for i, k in enumerate(sizes)])
    t = torch.randn(group.numel(), generator=g, dtype=torch.float64)
    s = torch.randn(group.numel(), generator=g, dtype=torch.float64)
    return s, t, group


def loop_rank(s, t, group, margin):
    terms = []
    for a in group.unique().tolist():
        idx = (group == a).nonzero().view(-1).tolist()
        for i, j in itertools.combinations(idx, 2):
            dt = float(t[i] - t[j])
            if abs(dt) > margin:
                r = 1.0 if dt > 0 else -1.0
                terms.append(torch.clamp(-r * (s[i] - s[j]) + margin, min=0))
    return torch.stack(terms).mean()


def loop_dist(s, t, group, tau):
    terms = []
    for a in group.unique().tolist():
        m = group == a
        p_t = F.softmax(t[m] / tau, 0)
        terms.append((p_t * (p_t.log() - F.log_softmax(s[m] / tau, 0))).sum())
    return torch.stack(terms).mean()


def value_and_grad(fn, s):
    s = s.clone().requires_grad_()
    v = fn(s)
    v.backward()
    return v.detach(), s.grad


@pytest.mark.parametrize("average", ["informative-pairs", "all-pairs"])
def test_rank_loss_is_the_same_in_any_number_of_chunks(monkeypatch, average):
    import g2m.losses.link as link

    s, t, group = grouped([5, 1, 7, 0, 3, 32, 2], 4)  # an empty group and a singleton among them
    group = torch.cat([group[group < 3], group[group >= 3] + 1])  # group 3 has no entry
    whole = value_and_grad(lambda x: llp_rank_loss(x, t, group, 0.1, 8, average), s)
    monkeypatch.setattr(link, "RANK_CHUNK_ELEMENTS", 40)  # 40 // 32^2 -> one anchor per chunk
    chunked = value_and_grad(lambda x: llp_rank_loss(x, t, group, 0.1, 8, average), s)
    torch.testing.assert_close(whole, chunked)
    with pytest.raises(ValueError, match="non-decreasing"):
        llp_rank_loss(s[:2], t[:2], torch.tensor([1, 0]))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("margin", [0.0, 0.1, 0.5])
def test_rank_loss_matches_loop(seed, margin):
    s, t, group = grouped([5, 1, 7, 3, 32], seed)
    v1, g1 = value_and_grad(lambda x: llp_rank_loss(x, t, group, margin), s)
    v2, g2 = value_and_grad(lambda x: loop_rank(x, t, group, margin), s)
    torch.testing.assert_close(v1, v2)
    torch.testing.assert_close(g1, g2)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("tau", [1.0, 0.5])
def test_dist_loss_matches_loop(backend, tau):
    s, t, group = grouped([4, 6, 2, 9], 3)
    v1, g1 = value_and_grad(lambda x: llp_dist_loss(x, t, group, 4, tau, backend=backend), s)
    v2, g2 = value_and_grad(lambda x: loop_dist(x, t, group, tau), s)
    torch.testing.assert_close(v1, v2)
    torch.testing.assert_close(g1, g2)


def test_rank_loss_zero_for_increasing_transform_with_margin():
    _, t, group = grouped([8, 8, 8], 5)
    margin = 0.1
    for f in (lambda x: 2 * x + 1, lambda x: x.exp() + 3 * x, lambda x: 5 * x**3 + x):
        # slope >= 1 everywhere: a teacher gap above the margin stays above it
        assert float(llp_rank_loss(f(t), t, group, margin)) == 0.0
    assert float(llp_rank_loss(-t, t, group, margin)) > 0.0  # reversed order is penalised
    # a strictly increasing map that squeezes gaps below the margin is penalised
    assert float(llp_rank_loss(0.01 * t, t, group, margin)) > 0.0


def test_rank_loss_ignores_pairs_within_margin():
    t = torch.tensor([0.0, 0.05, 0.08])
    s = torch.tensor([3.0, -1.0, 2.0], requires_grad=True)
    loss = llp_rank_loss(s, t, torch.zeros(3, dtype=torch.long), margin=0.1)
    loss.backward()
    assert float(loss.detach()) == 0.0 and torch.equal(s.grad, torch.zeros(3))


def test_dist_loss_zero_when_equal_up_to_shift_per_anchor():
    s, t, group = grouped([3, 5], 0)
    shifted = t + torch.tensor([1.0, -2.0])[group].double()
    assert float(llp_dist_loss(shifted, t, group)) < 1e-12


def test_baselines():
    s, t = torch.randn(10), torch.randn(10)
    torch.testing.assert_close(logit_matching_loss(s, t), ((s - t) ** 2).mean())
    h = torch.randn(6, 4)
    assert float(representation_matching_loss(h, 2 * h)) < 1e-6
    torch.testing.assert_close(representation_matching_loss(h, -h), torch.tensor(2.0))
    with pytest.raises(ValueError, match="equal shapes"):
        representation_matching_loss(h, torch.randn(6, 5))
    pos, neg = torch.tensor([10.0]), torch.tensor([-10.0])
    assert float(link_bce(pos, neg)) < 1e-3 < float(link_bce(neg, pos))


@pytest.mark.parametrize("seed", [0, 1])
def test_all_pairs_rank_loss_is_the_official_margin_ranking_loss(seed):
    # snap-research/linkless-link-prediction src/main.py: nn.MarginRankingLoss over every
    # itertools.combinations pair of one anchor's contexts, target 1 / -1 outside the
    # margin and 0 inside it, mean reduction over anchors x pairs
    g = torch.Generator().manual_seed(seed)
    anchors, k, margin = 5, 6, 0.1
    t = torch.rand(anchors, k, generator=g, dtype=torch.float64)
    s = torch.rand(anchors, k, generator=g, dtype=torch.float64, requires_grad=True)
    pairs = torch.tensor(list(itertools.combinations(range(k), 2))).t()
    target = torch.zeros(anchors, pairs.size(1), dtype=torch.float64)
    target[t[:, pairs[0]] > t[:, pairs[1]] + margin] = 1
    target[t[:, pairs[0]] < t[:, pairs[1]] - margin] = -1
    ref = torch.nn.MarginRankingLoss(margin=margin)(s[:, pairs[0]], s[:, pairs[1]], target)
    (g_ref,) = torch.autograd.grad(ref, s)
    group = torch.arange(anchors).repeat_interleave(k)
    ours = llp_rank_loss(s.reshape(-1), t.reshape(-1), group, margin, anchors, average="all-pairs")
    (g_ours,) = torch.autograd.grad(ours, s)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(g_ours, g_ref)
    informative = llp_rank_loss(s.reshape(-1), t.reshape(-1), group, margin, anchors)
    share = float((target != 0).double().mean())
    (g_inf,) = torch.autograd.grad(informative, s)
    torch.testing.assert_close(g_ours, share * g_inf)  # same direction, scaled by the informative share
    with pytest.raises(ValueError, match="rank-loss average"):
        llp_rank_loss(s.reshape(-1), t.reshape(-1), group, margin, anchors, average="valid")


def test_teacher_score_dropout_applies_in_eval_mode():
    from g2m.teachers.link import LinkScorer

    scorer = LinkScorer("mlp", 8).eval()
    h = torch.randn(50, 8)
    pairs = torch.randint(0, 50, (2, 40))
    torch.testing.assert_close(scorer.score_pairs(h, pairs), scorer.score_pairs(h, pairs, 0.0))
    a, b = scorer.score_pairs(h, pairs, 0.5), scorer.score_pairs(h, pairs, 0.5)
    assert not torch.equal(a, b)  # the official LLP teacher predictor scores with dropout
    assert LinkScorer("dot", 8).score_pairs(h, pairs, 0.5).shape == (40,)


@pytest.mark.parametrize("average", ["informative-pairs", "all-pairs"])
@pytest.mark.parametrize("tau", [1.0, 0.5])
def test_anchor_batches_sum_to_the_full_batch_loss_and_gradient(average, tau):
    # a mini-batch step splits its anchors into chunks: each chunk's reduction="sum" share over the whole
    # batch's denominator; the shares of chunks that cover every anchor sum to the full-batch mean
    from g2m.losses.link import llp_rank_denominator

    sizes = [5, 1, 7, 0, 3, 32, 2, 9]
    s, t, group = grouped(sizes, 7)
    margin, n = 0.2, len(sizes)
    full = value_and_grad(
        lambda x: llp_rank_loss(x, t, group, margin, n, average) + llp_dist_loss(x, t, group, n, tau), s
    )
    rank_den = llp_rank_denominator(t, group, margin, n, average)
    dist_den = sum(1 for k in sizes if k)
    for cuts in ([0, 3, 5, 8], [0, 1, 2, 3, 4, 5, 6, 7, 8], [0, 8]):

        def batched(x):
            total = x.sum() * 0.0
            for g0, g1 in zip(cuts[:-1], cuts[1:]):
                m = (group >= g0) & (group < g1)
                if not m.any():
                    continue
                local = group[m] - g0
                total = total + llp_rank_loss(x[m], t[m], local, margin, g1 - g0, average, "sum") / rank_den
                total = total + llp_dist_loss(x[m], t[m], local, g1 - g0, tau, reduction="sum") / dist_den
            return total

        torch.testing.assert_close(value_and_grad(batched, s), full)
    with pytest.raises(ValueError, match="reduction"):
        llp_rank_loss(s, t, group, margin, n, average, "max")


def test_rank_loss_memory_does_not_grow_with_the_pairs():
    # what autograd keeps for the backward is at most the [anchors, K] padded scores, never the
    # [anchors, K, K] pair blocks (the earlier chunked autograd kept every block: 7.8 GiB on Photo)
    s, t, group = grouped([30] * 40, 1)
    s.requires_grad_()
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda x: saved.append(x.numel()) or x, lambda x: x):
        loss = llp_rank_loss(s, t, group, 0.1, 40, "all-pairs")
    assert max(saved) <= 40 * 30
    loss.backward()
    assert s.grad.abs().sum() > 0
