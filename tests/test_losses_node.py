"""Each node loss against a direct dense reference on small random graphs."""

import pytest
import torch
import torch.nn.functional as F

from g2m.losses import hfd_loss, kd_loss, lfd_loss, node_objective


def random_graph(n=12, e=30, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, e), generator=g)
    ei = ei[:, ei[0] != ei[1]]
    return torch.cat([ei, ei.flip(0)], 1).unique(dim=1)


def kl(p, q):
    return (p * (p.log() - q.log())).sum()


def dense_lfd(s, t, ei, tau):
    n = s.size(0)
    a = torch.zeros(n, n)
    a[ei[1], ei[0]] = 1.0
    a.fill_diagonal_(1.0)  # self-loops
    ps, pt = F.softmax(s / tau, -1), F.softmax(t / tau, -1)
    total = sum(kl(pt[j], ps[i]) for i in range(n) for j in range(n) if a[i, j] > 0)
    return total / a.sum()


def dense_hfd(s, t, ei, tau):
    pairs = [(i, j) for i, j in ei.t().tolist() if i != j]
    total = sum(
        kl(F.softmax((t[i] - t[j]).abs() / tau, -1), F.softmax((s[i] - s[j]).abs() / tau, -1)) for i, j in pairs
    )
    return total / len(pairs)


def dense_kd(s, t, tau):
    ps, pt = F.softmax(s / tau, -1), F.softmax(t / tau, -1)
    return sum(kl(pt[i], ps[i]) for i in range(s.size(0))) / s.size(0)


def _grad(fn, s):
    s = s.clone().requires_grad_()
    val = fn(s)
    val.backward()
    return val.detach(), s.grad


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("tau", [1.0, 1.5])
def test_losses_match_dense_reference(seed, tau):
    torch.manual_seed(seed)
    n, c = 12, 5
    s, t = torch.randn(n, c, dtype=torch.float64), torch.randn(n, c, dtype=torch.float64)
    ei = random_graph(n, seed=seed)
    for ours, ref in [
        (lambda x: lfd_loss(x, t, ei, tau), lambda x: dense_lfd(x, t, ei, tau)),
        (lambda x: hfd_loss(x, t, ei, tau), lambda x: dense_hfd(x, t, ei, tau)),
        (lambda x: kd_loss(x, t, tau), lambda x: dense_kd(x, t, tau)),
    ]:
        v1, g1 = _grad(ours, s)
        v2, g2 = _grad(ref, s)
        torch.testing.assert_close(v1, v2)
        torch.testing.assert_close(g1, g2)


@pytest.mark.parametrize("loss", ["lfd", "hfd"])
def test_chunked_equals_unchunked(loss):
    n, c = 50, 7
    s, t = torch.randn(n, c, dtype=torch.float64), torch.randn(n, c, dtype=torch.float64)
    ei = random_graph(n, e=300)
    fn = {"lfd": lfd_loss, "hfd": hfd_loss}[loss]
    v_full, g_full = _grad(lambda x: fn(x, t, ei, 1.2, None), s)
    for chunk in (1, 7, 64, 10_000):
        v, g = _grad(lambda x: fn(x, t, ei, 1.2, chunk), s)
        torch.testing.assert_close(v, v_full)
        torch.testing.assert_close(g, g_full)


def test_lfd_zero_for_equal_logits_with_only_self_loops():
    s = torch.randn(9, 4)
    only_self = torch.arange(9).repeat(2, 1)
    assert lfd_loss(s, s.clone(), only_self).abs() < 1e-6
    assert lfd_loss(s, torch.randn(9, 4), only_self) > 1e-3
    # with real edges, matching logits is no longer enough
    assert lfd_loss(s, s.clone(), random_graph(9)) > 1e-3


def test_hfd_invariant_to_shared_shift_per_edge():
    n, c = 10, 6
    s, t = torch.randn(n, c), torch.randn(n, c)
    ei = random_graph(n)
    shift = torch.randn(c)
    base = hfd_loss(s, t, ei)
    torch.testing.assert_close(hfd_loss(s + shift, t, ei), base)
    torch.testing.assert_close(hfd_loss(s, t - 3 * shift, ei), base)
    assert hfd_loss(t.clone(), t, ei) < 1e-6 < base


def test_kd_temperature_one_is_plain_kl():
    s, t = torch.randn(20, 5), torch.randn(20, 5)
    expected = F.kl_div(F.log_softmax(s, -1), F.softmax(t, -1), reduction="batchmean")
    torch.testing.assert_close(kd_loss(s, t, 1.0), expected)


def test_objective_mixes_with_lambda():
    n, c = 12, 3
    s, t = torch.randn(n, c), torch.randn(n, c)
    y = torch.randint(0, c, (n,))
    idx = torch.arange(6)
    ei = random_graph(n)
    total, parts = node_objective("ffg2m", s, t, y, idx, ei, lam=0.3, tau=1.0)
    assert set(parts) == {"ce", "lfd", "hfd"}
    torch.testing.assert_close(
        float(total), 0.3 * parts["ce"] + 0.7 * (parts["lfd"] + parts["hfd"]), rtol=1e-5, atol=1e-6
    )
    total, parts = node_objective("mlp", s, None, y, idx, ei)
    assert set(parts) == {"ce"}
    with pytest.raises(ValueError, match="unknown node objective"):
        node_objective("glnm", s, t, y, idx, ei)
    with pytest.raises(ValueError, match="unknown node objective"):  # a recipe names a method, not a loss
        node_objective("ffg2m_safe", s, t, y, idx, ei)
    with pytest.raises(ValueError, match="lambda"):
        node_objective("glnn", s, t, y, idx, ei, lam=2.0)
    with pytest.raises(ValueError, match="needs teacher"):
        node_objective("glnn", s, None, y, idx, ei)


def official_kd_lfd(s, t, ei):
    """The official FF-G2M formulas (LirongWu/FF-G2M src/models.py, train_and_eval.py):
    KLDivLoss(batchmean, log_target) of log_softmax of the *raw* logits; LFD over the
    edges with self-loops (student at one end, teacher at the other), KD over nodes."""
    n = s.size(0)
    loops = torch.arange(n).repeat(2, 1)
    e = torch.cat([ei, loops], 1)
    crit = torch.nn.KLDivLoss(reduction="batchmean", log_target=True)
    log_s, log_t = s.log_softmax(1), t.log_softmax(1)
    return crit(log_s[e[1]], log_t[e[0]]), crit(log_s, log_t)


@pytest.mark.parametrize("tau", [1.0, 1.3, 2.0])
def test_default_objectives_use_untempered_kd_and_lfd(tau):
    torch.manual_seed(3)
    n, c = 15, 4
    s, t = torch.randn(n, c, dtype=torch.float64), torch.randn(n, c, dtype=torch.float64)
    y, idx, ei = torch.randint(0, c, (n,)), torch.arange(5), random_graph(n, seed=3)
    lfd_ref, kd_ref = official_kd_lfd(s, t, ei)
    hfd_ref = dense_hfd(s, t, ei, tau)  # HFD keeps tau
    _, parts = node_objective("lfd", s, t, y, idx, ei, tau=tau)
    assert parts["lfd"] == pytest.approx(float(lfd_ref), rel=1e-9)
    _, parts = node_objective("glnn", s, t, y, idx, ei, tau=tau)
    assert parts["kd"] == pytest.approx(float(kd_ref), rel=1e-9)
    _, parts = node_objective("ffg2m", s, t, y, idx, ei, tau=tau)
    assert (parts["lfd"], parts["hfd"]) == (pytest.approx(float(lfd_ref)), pytest.approx(float(hfd_ref)))
    # the named option divides KD and LFD by tau as well
    _, parts = node_objective("ffg2m", s, t, y, idx, ei, tau=tau, tempered_kd=True)
    assert parts["lfd"] == pytest.approx(float(dense_lfd(s, t, ei, tau)))
    if tau != 1.0:
        assert parts["lfd"] != pytest.approx(float(lfd_ref))


def dense_weighted_lfd(s, t, ei, w):
    """sum_e w_e KL(p^T_src || p^S_dst) / sum_e w_e, self-loops added with weight 1."""
    ps, pt = F.softmax(s, -1), F.softmax(t, -1)
    terms = [(float(w[k]), j, i) for k, (j, i) in enumerate(ei.t().tolist()) if i != j]
    terms += [(1.0, i, i) for i in range(s.size(0))]
    return sum(wk * kl(pt[j], ps[i]) for wk, j, i in terms) / sum(wk for wk, _, _ in terms)


def dense_weighted_hfd(s, t, ei, w, tau):
    pairs = [(float(w[k]), i, j) for k, (i, j) in enumerate(ei.t().tolist()) if i != j]
    total = sum(
        wk * kl(F.softmax((t[i] - t[j]).abs() / tau, -1), F.softmax((s[i] - s[j]).abs() / tau, -1))
        for wk, i, j in pairs
    )
    return total / len(pairs)


@pytest.mark.parametrize("seed", [0, 1])
def test_weighted_lfd_and_hfd_match_dense_references(seed):
    from g2m.losses.node import teacher_agreement

    g = torch.Generator().manual_seed(seed)
    s, t = torch.randn(12, 4, generator=g), torch.randn(12, 4, generator=g) * 2
    ei = random_graph(12, 30, seed)
    w = teacher_agreement(t, ei)
    pt = F.softmax(t, -1)
    assert torch.allclose(w, torch.tensor([float(pt[j] @ pt[i]) for j, i in ei.t().tolist()]))
    assert ((w > 0) & (w < 1)).all()
    for fn, ref in (
        (lambda x: lfd_loss(x, t, ei, edge_weight=w), lambda x: dense_weighted_lfd(x, t, ei, w)),
        (lambda x: hfd_loss(x, t, ei, 1.3, edge_weight=w), lambda x: dense_weighted_hfd(x, t, ei, w, 1.3)),
        (
            lambda x: hfd_loss(x, t, ei, 1.3, chunk_size=7, edge_weight=w),
            lambda x: dense_weighted_hfd(x, t, ei, w, 1.3),
        ),
    ):
        v, gv = _grad(fn, s)
        r, gr = _grad(ref, s)
        torch.testing.assert_close(v, r, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(gv, gr, rtol=1e-4, atol=1e-6)


def test_weighted_lfd_limits_are_kd_and_lfd():
    s, t = torch.randn(12, 4), torch.randn(12, 4)
    ei = random_graph(12, 30, 3)
    ones, zeros = torch.ones(ei.size(1)), torch.zeros(ei.size(1))
    torch.testing.assert_close(lfd_loss(s, t, ei, edge_weight=ones), lfd_loss(s, t, ei))
    torch.testing.assert_close(lfd_loss(s, t, ei, edge_weight=zeros), kd_loss(s, t))  # self-loops only
    assert hfd_loss(s, t, ei, edge_weight=zeros) == 0
    with pytest.raises(ValueError, match="one entry per edge"):
        lfd_loss(s, t, ei, edge_weight=ones[:-1])


def test_similarity_loss_matches_the_dense_similarity_matrices():
    from g2m.losses.node import similarity_loss

    g = torch.Generator().manual_seed(0)
    z, h = torch.randn(50, 8, generator=g), torch.randn(50, 5, generator=g)
    dense = lambda x: ((h @ h.t() - x @ x.t()) ** 2).mean()  # noqa: E731  NOSMOG's form
    v, gv = _grad(lambda x: similarity_loss(x, h), z)
    r, gr = _grad(dense, z)
    torch.testing.assert_close(v, r, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(gv, gr, rtol=1e-4, atol=1e-5)
    q, _ = torch.linalg.qr(torch.randn(5, 5, generator=g))
    assert similarity_loss(h @ q, h) < 1e-8  # similarities are invariant to a rotation
    with pytest.raises(ValueError, match="same nodes"):
        similarity_loss(z[:10], h)
    unit = lambda x: x / x.norm(dim=1, keepdim=True)  # noqa: E731
    cos = similarity_loss(z, h, "cosine")
    torch.testing.assert_close(cos, ((unit(h) @ unit(h).t() - unit(z) @ unit(z).t()) ** 2).mean())
    assert similarity_loss(z * 100, h * 0.01, "cosine") == pytest.approx(float(cos))  # scale-free
    with pytest.raises(ValueError, match="kernel"):
        similarity_loss(z, h, "rbf")


def test_lfd_target_is_built_in_bounded_chunks_by_default(monkeypatch):
    """Without a chunk_size the target's sums still run TARGET_CHUNK edges at a time (no [E, C]
    rows for a whole large graph), and equal the one-chunk sums."""
    import g2m.losses.node as node

    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(40, 5, generator=gen)
    edges = torch.randint(0, 40, (2, 300), generator=gen)
    whole = node.lfd_target(logits, edges, chunk_size=10**9)
    sizes = []
    real_scatter = node.scatter
    monkeypatch.setattr(
        node, "scatter", lambda rows, *a, **k: sizes.append(rows.size(0)) or real_scatter(rows, *a, **k)
    )
    monkeypatch.setattr(node, "TARGET_CHUNK", 64)
    chunked = node.lfd_target(logits, edges)
    assert max(sizes[:-2]) == 64  # the two last scatters are the [E] per-node constants
    torch.testing.assert_close(chunked.agg, whole.agg)
    torch.testing.assert_close(chunked.const, whole.const)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("weighted", [False, True])
def test_hfd_from_its_target_matches_the_dense_reference_on_a_multigraph(seed, weighted):
    """hfd_target keeps each unordered pair once with its edges' count (or summed weights): a
    directed graph with a duplicate edge, a reversed copy and a self-loop gives the dense value."""
    from g2m.losses.node import hfd_loss_on, hfd_target

    g = torch.Generator().manual_seed(seed)
    s, t = torch.randn(12, 4, generator=g, dtype=torch.float64), torch.randn(12, 4, generator=g, dtype=torch.float64)
    ei = torch.randint(0, 12, (2, 25), generator=g)
    ei = torch.cat([ei, ei[:, :3], ei[:, 3:6].flip(0), torch.tensor([[4], [4]])], 1)  # duplicates, reverses, a loop
    w = torch.rand(ei.size(1), generator=g, dtype=torch.float64) if weighted else None
    loops = ei[0] == ei[1]
    kept = ei[:, ~loops]
    ref = (
        (lambda x: dense_weighted_hfd(x, t, kept, w[~loops], 0.7)) if weighted else (lambda x: dense_hfd(x, t, ei, 0.7))
    )
    target = hfd_target(t, ei, 0.7, w)
    assert target.edge_index.size(1) < kept.size(1) and bool((target.edge_index[0] < target.edge_index[1]).all())
    for chunk in (None, 5):
        v, gr = _grad(lambda x: hfd_loss_on(x, target, chunk_size=chunk), s)
        rv, rg = _grad(ref, s)
        torch.testing.assert_close(v, rv)
        torch.testing.assert_close(gr, rg)


def test_hfd_on_a_node_subset_is_the_mean_over_the_edges_inside_it():
    from g2m.losses.node import hfd_loss_on, hfd_target

    g = torch.Generator().manual_seed(3)
    s, t = torch.randn(12, 4, generator=g, dtype=torch.float64), torch.randn(12, 4, generator=g, dtype=torch.float64)
    ei = random_graph(12, 40, 3)
    index = torch.tensor([7, 0, 3, 5, 9, 11])
    pos = {n: k for k, n in enumerate(index.tolist())}
    inside = torch.tensor([[pos[i], pos[j]] for i, j in ei.t().tolist() if i in pos and j in pos]).t()
    assert inside.size(1) > 0
    v, gr = _grad(lambda x: hfd_loss_on(x, hfd_target(t, ei), index), s[index])
    rv, rg = _grad(lambda x: dense_hfd(x, t[index], inside, 1.0), s[index])
    torch.testing.assert_close(v, rv)
    torch.testing.assert_close(gr, rg)
    lonely = torch.tensor([0])  # no edge inside: zero, still differentiable
    x = s[lonely].clone().requires_grad_()
    out = hfd_loss_on(x, hfd_target(t, ei), lonely)
    out.backward()
    assert float(out.detach()) == 0.0 and torch.equal(x.grad, torch.zeros_like(x))


@pytest.mark.parametrize("c", [3, 7, 16, 40])
def test_row_log_softmax_equals_torchs(c):
    from g2m.losses.node import row_log_softmax

    x = torch.randn(500, c, dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(row_log_softmax(x), F.log_softmax(x, -1))
    w = torch.randn(500, c, dtype=torch.float64)
    (g1,) = torch.autograd.grad((row_log_softmax(x) * w).sum(), x)
    (g2,) = torch.autograd.grad((F.log_softmax(x, -1) * w).sum(), x)
    torch.testing.assert_close(g1, g2)
