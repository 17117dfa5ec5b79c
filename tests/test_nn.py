"""g2m.nn's loss modules in a user's own loop: cached targets, node subsets and their errors."""

import pytest
import torch
import torch.nn.functional as F

import g2m
from g2m.losses.node import hfd_loss, kd_loss, lfd_loss, lfd_loss_on, lfd_target


def _graph(n=40, e=120, c=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, e), generator=g)
    ei = torch.cat([ei, ei.flip(0)], 1).unique(dim=1)
    s, t = torch.randn(n, c, generator=g, dtype=torch.float64), torch.randn(n, c, generator=g, dtype=torch.float64)
    w = torch.rand(ei.size(1), generator=g, dtype=torch.float64)
    return s, t, ei, w


def _value_and_grad(fn, x):
    x = x.clone().requires_grad_()
    out = fn(x)
    (grad,) = torch.autograd.grad(out, x)
    return out.detach(), grad


@pytest.mark.parametrize("weighted", [False, True])
def test_cached_modules_equal_the_plain_losses_values_and_gradients(weighted):
    s, t, ei, w = _graph()
    w = w if weighted else None
    for cached in (g2m.nn.LFDLoss(tau=1.5, cached=True), g2m.nn.HFDLoss(tau=0.5, cached=True)):
        plain = lfd_loss if isinstance(cached, g2m.nn.LFDLoss) else hfd_loss
        for _ in range(2):  # the second call reuses the target
            got = _value_and_grad(lambda x: cached(x, t, ei, w), s)
            want = _value_and_grad(lambda x: plain(x, t, ei, cached.tau, edge_weight=w), s)
            torch.testing.assert_close(got, want)
    ffg2m = g2m.nn.FFG2MLoss(tau=0.5, cached=True)
    want = _value_and_grad(lambda x: lfd_loss(x, t, ei, 1.0, edge_weight=w) + hfd_loss(x, t, ei, 0.5, edge_weight=w), s)
    torch.testing.assert_close(_value_and_grad(lambda x: ffg2m(x, t, ei, w), s), want)
    torch.testing.assert_close(_value_and_grad(lambda x: g2m.nn.FFG2MLoss(tau=0.5)(x, t, ei, w), s), want)


def test_modules_on_a_mini_batch_of_nodes():
    """``index`` names the nodes of the student's rows: KD on their teacher rows, LFD the mean over
    the edges into them (the library's own mini-batch LFD), HFD the mean over the edges inside."""
    s, t, ei, _ = _graph(seed=1)
    seeds = torch.tensor([3, 17, 0, 25, 8, 31, 12])
    torch.testing.assert_close(g2m.nn.KDLoss(2.0)(s[seeds], t, seeds), kd_loss(s[seeds], t[seeds], 2.0))
    target = lfd_target(t, ei, 1.0)
    for cached in (False, True):
        got = g2m.nn.LFDLoss(cached=cached)(s[seeds], t, ei, index=seeds)
        torch.testing.assert_close(got, lfd_loss_on(s[seeds], target, seeds, reduction="mean"))
    keep = torch.isin(ei[0], seeds) & torch.isin(ei[1], seeds)
    relabel = torch.full((40,), -1).index_put_((seeds,), torch.arange(seeds.numel()))
    inside = relabel[ei[:, keep]]
    assert inside.size(1) > 0
    torch.testing.assert_close(
        g2m.nn.HFDLoss(tau=0.5)(s[seeds], t, ei, index=seeds), hfd_loss(s[seeds], t[seeds], inside, 0.5)
    )
    both = g2m.nn.FFG2MLoss(tau=0.5, cached=True)(s[seeds], t, ei, index=seeds)
    torch.testing.assert_close(
        both, lfd_loss_on(s[seeds], target, seeds, reduction="mean") + hfd_loss(s[seeds], t[seeds], inside, 0.5)
    )


def test_a_subset_without_index_or_a_bad_index_is_one_clear_error():
    s, t, ei, _ = _graph()
    seeds = torch.tensor([1, 2, 3])
    for module, extra in ((g2m.nn.KDLoss(), ()), (g2m.nn.FFG2MLoss(), (ei,)), (g2m.nn.HFDLoss(cached=True), (ei,))):
        with pytest.raises(ValueError, match="pass index="):
            module(s[seeds], t, *extra)
        with pytest.raises(ValueError, match=r"node ids in \[0, 40\)"):
            module(s[seeds], t, *extra, index=torch.tensor([1, 2, 40])) if not extra else module(
                s[seeds], t, *extra, index=torch.tensor([1, 2, 40])
            )
        with pytest.raises(ValueError, match="names 2 nodes but student_logits has 3 rows"):
            module(s[seeds], t, *extra, index=seeds[:2])
        with pytest.raises(ValueError, match="1-D long tensor"):
            module(s[seeds], t, *extra, index=seeds.float())
    for module in (g2m.nn.FFG2MLoss(), g2m.nn.LFDLoss(), g2m.nn.HFDLoss(), g2m.nn.HFDLoss(cached=True)):
        with pytest.raises(ValueError, match=r"edge_index must hold node ids in \[0, 40\)"):
            module(s, t, ei + 1)


def test_cached_targets_follow_the_teacher_and_the_edges():
    s, t, ei, _ = _graph()
    loss_fn = g2m.nn.FFG2MLoss(cached=True)
    first = loss_fn(s, t, ei)
    kept = loss_fn._target
    assert torch.equal(loss_fn(s, t, ei), first) and loss_fn._target is kept
    t.mul_(2.0)  # changed in place: rebuilt
    torch.testing.assert_close(loss_fn(s, t, ei), g2m.nn.FFG2MLoss()(s, t, ei))
    assert loss_fn._target is not kept
    fewer = ei[:, ::2]
    torch.testing.assert_close(loss_fn(s, t, fewer), g2m.nn.FFG2MLoss()(s, t, fewer))


def test_a_users_loop_with_ffg2m_on_mini_batches_learns_the_teacher():
    """A linear student trained on mini-batches of nodes with the cached FF-G2M loss alone, on a
    graph whose edges join nodes of the teacher's same class, agrees with its teacher far above
    chance (1/C)."""
    g = torch.Generator().manual_seed(0)
    n, c = 200, 4
    x = torch.randn(n, 16, generator=g)
    t = (x @ torch.randn(16, c, generator=g)) * 3
    ei = torch.randint(0, n, (2, 3000), generator=g)
    ei = ei[:, t.argmax(-1)[ei[0]] == t.argmax(-1)[ei[1]]]
    torch.manual_seed(0)
    student = torch.nn.Linear(16, c)
    opt = torch.optim.Adam(student.parameters(), lr=0.05)
    loss_fn = g2m.nn.FFG2MLoss(cached=True)
    for _ in range(30):
        for seeds in torch.randperm(n, generator=g).split(50):
            opt.zero_grad()
            loss_fn(student(x[seeds]), t, ei, index=seeds).backward()
            opt.step()
    agree = (student(x).argmax(-1) == t.argmax(-1)).float().mean()
    assert agree > 0.8, float(agree)
    assert F.kl_div(F.log_softmax(student(x), -1), F.log_softmax(t, -1), log_target=True, reduction="batchmean") < 0.5


def test_ffg2m_loss_tempers_lfd_only_when_asked_as_the_trainer_does():
    """FF-G2M's rule (LFD untempered, tau in HFD), shared with the trainer's terms through
    kd_temperature; tempered_kd=True puts tau in LFD too (KRD's habit)."""
    from g2m.losses.node import kd_temperature
    from g2m.losses.terms import LFDTerm, teacher_terms

    s, t, ei, _ = _graph(seed=2)
    plain = lfd_loss(s, t, ei, 1.0) + hfd_loss(s, t, ei, 2.0)
    tempered = lfd_loss(s, t, ei, 2.0) + hfd_loss(s, t, ei, 2.0)
    torch.testing.assert_close(g2m.nn.FFG2MLoss(tau=2.0, cached=True)(s, t, ei), plain)
    torch.testing.assert_close(g2m.nn.FFG2MLoss(tau=2.0, tempered_kd=True)(s, t, ei), tempered)
    assert not torch.allclose(plain, tempered)
    for tempered_kd in (False, True):
        (lfd,) = [term for term in teacher_terms("ffg2m", t, ei, 2.0, tempered_kd) if isinstance(term, LFDTerm)]
        assert lfd.tau == kd_temperature(2.0, tempered_kd) == g2m.nn.FFG2MLoss(2.0, tempered_kd=tempered_kd).lfd_tau


def test_students_and_teachers_load_state_dicts_saved_before_pyg_models():
    """The MLP student is PyG's MLP (``lins``) and the teacher PyG's BasicGNN (``convs``); state dicts
    saved as ``layers.*`` (students, checkpoints) still load, to the same outputs."""
    from g2m.students.mlp import MLP
    from g2m.teachers.models import GNN

    x, edge_index = torch.randn(6, 4), torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]])
    for model, other, new, run in (
        (MLP(4, 3, hidden=8, norm="batch"), MLP(4, 3, hidden=8, norm="batch"), "lins.", lambda m: m(x)),
        (GNN("gcn", 4, 3, hidden=8), GNN("gcn", 4, 3, hidden=8), "convs.", lambda m: m(x, edge_index)),
    ):
        legacy = {k.replace(new, "layers.", 1): v for k, v in model.state_dict().items()}
        assert any(k.startswith("layers.") for k in legacy)
        other.load_state_dict(legacy)
        model.eval(), other.eval()
        assert torch.equal(run(model), run(other))
