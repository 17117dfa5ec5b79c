"""g2m.losses.terms: the student's loss as a list of term objects, each against its pure loss
(values and gradients), composed as lambda CE + (1 - lambda) sum of the teacher's terms + weighted
extras; KRD's edge resampling as a checkpointable hook."""

import pytest
import torch
import torch.nn.functional as F

from g2m.losses.node import hfd_loss, kd_loss, lfd_loss, lfd_target, similarity_loss
from g2m.losses.terms import (
    AdversarialTerm,
    HFDSample,
    HFDTerm,
    KDTerm,
    LFDTerm,
    Objective,
    SimilarityTerm,
    Step,
    teacher_terms,
)
from g2m.students.reliability import ReliableEdges, ReliableEdgeSampler


@pytest.fixture
def small():
    gen = torch.Generator().manual_seed(0)
    n, c = 12, 4
    src = torch.randint(0, n, (40,), generator=gen)
    dst = torch.randint(0, n, (40,), generator=gen)
    edges = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], 1)
    teacher = torch.randn(n, c, generator=gen)
    student = torch.randn(n, c, generator=gen, requires_grad=True)
    y = torch.randint(0, c, (n,), generator=gen)
    return student, teacher, y, torch.arange(0, n, 3), edges


def test_teacher_terms_follow_the_objective():
    t, e = torch.zeros(3, 2), torch.zeros(2, 1, dtype=torch.long)
    names = {obj: [term.name for term in teacher_terms(obj, t, e)] for obj in ("mlp", "glnn", "lfd", "hfd", "ffg2m")}
    assert names == {"mlp": [], "glnn": ["kd"], "lfd": ["lfd"], "hfd": ["hfd"], "ffg2m": ["lfd", "hfd"]}
    kd, lfd = teacher_terms("glnn", t, tau=3.0)[0], teacher_terms("lfd", t, e, tau=3.0)[0]
    assert (kd.tau, lfd.tau) == (1.0, 1.0)  # raw logits in KD and LFD unless tempered, as the official code
    assert teacher_terms("glnn", t, tau=3.0, tempered_kd=True)[0].tau == 3.0


@pytest.mark.parametrize("lam", [0.0, 0.3, 1.0])
def test_objective_is_lambda_ce_plus_the_teacher_terms(small, lam):
    student, teacher, y, train, edges = small
    objective = Objective(lam, teacher_terms("ffg2m", teacher, edges, tau=2.0, hfd_edge_index=edges))
    loss, parts = objective(Step(student, y, train))
    (grad,) = torch.autograd.grad(loss, student)
    ce = F.cross_entropy(student[train], y[train])
    expected = lam * ce + (1 - lam) * (lfd_loss(student, teacher, edges) + hfd_loss(student, teacher, edges, 2.0))
    (expected_grad,) = torch.autograd.grad(expected, student)
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(grad, expected_grad)
    assert set(parts) == {"ce", "lfd", "hfd"} and parts["ce"] == pytest.approx(float(ce))


def test_a_student_without_teacher_terms_takes_the_labels_alone(small):
    student, _, y, train, _ = small
    loss, parts = Objective(0.0)(Step(student, y, train))  # lam does not zero it
    torch.testing.assert_close(loss, F.cross_entropy(student[train], y[train]))
    empty, _ = Objective(0.0)(Step(student, y, torch.empty(0, dtype=torch.long)))
    assert float(empty) == 0.0 and not torch.isnan(empty)


def test_minibatch_terms_read_the_seeds_rows(small):
    student, teacher, y, train, edges = small
    seeds = torch.tensor([1, 4, 7])
    logits = student[seeds]
    step = Step(logits, y[seeds], torch.tensor([1]), seeds)
    torch.testing.assert_close(KDTerm(teacher)(step), kd_loss(logits, teacher[seeds]))
    target = lfd_target(teacher, edges)
    full = LFDTerm(teacher, edges)(Step(student, y, train))
    # batches covering every node: their shares sum to the full LFD (lfd_loss_on's "share")
    assert LFDTerm(teacher, target=target)(step) > 0 and full > 0
    assert HFDTerm()(step) is None  # a batch that sampled no HFD edge has no HFD term
    sample = HFDSample(student, teacher, edges[:, :5])
    hfd = HFDTerm(tau=2.0)(Step(logits, y[seeds], torch.tensor([1]), seeds, hfd=sample))
    torch.testing.assert_close(hfd, hfd_loss(student, teacher, edges[:, :5], 2.0))
    with pytest.raises(ValueError, match="LFD target"):
        LFDTerm(teacher)(step)


def test_scales_multiply_each_term(small):
    student, teacher, y, _, _ = small
    seeds = torch.arange(6)
    step = Step(student[seeds], y[seeds], torch.tensor([0, 2]), seeds, scales={"ce": 2.0, "kd": 0.5})
    loss, _ = Objective(0.4, [KDTerm(teacher)])(step)
    ce = F.cross_entropy(student[[0, 2]], y[[0, 2]])
    torch.testing.assert_close(loss, 0.4 * 2.0 * ce + 0.6 * 0.5 * kd_loss(student[seeds], teacher[seeds]))


def test_extras_add_their_weighted_terms(small):
    student, teacher, y, train, _ = small
    projector = torch.nn.Identity()
    h = torch.randn(student.size(0), 5)
    sim = SimilarityTerm(projector, h, "dot", weight=0.7)
    hidden = torch.randn(student.size(0), 5)
    loss, parts = Objective(0.0, [KDTerm(teacher)], [sim])(Step(student, y, train, hidden=hidden))
    torch.testing.assert_close(loss, kd_loss(student, teacher) + 0.7 * similarity_loss(hidden, h, "dot"))
    assert parts["similarity"] == pytest.approx(float(similarity_loss(hidden, h, "dot")))
    with pytest.raises(ValueError, match="hidden layer"):
        sim(Step(student, y, train))


def test_the_adversarial_term_raises_the_node_wise_loss(small):
    _, teacher, y, train, _ = small
    torch.manual_seed(0)
    model = torch.nn.Linear(8, teacher.size(1))
    x = torch.randn(teacher.size(0), 8)
    node_wise = Objective(0.5, [KDTerm(teacher)])
    step = Step(model(x), y, train, x=x, forward=model)
    clean = node_wise(step)[0]
    adv = AdversarialTerm(node_wise, eps=0.5, steps=5, weight=0.1, gen=torch.Generator().manual_seed(0))(step)
    assert adv > clean  # PGD found inputs within the radius that the student gets more wrong
    with pytest.raises(ValueError, match="dense inputs"):
        AdversarialTerm(node_wise, 0.5, 5, 0.1, torch.Generator())(Step(model(x), y, train))


def test_reliable_edges_resample_lfd_and_checkpoint(small):
    student, teacher, _, _, edges = small
    lfd = LFDTerm(teacher, edges)
    shift = torch.rand(teacher.size(0), generator=torch.Generator().manual_seed(1))
    hook = ReliableEdges(ReliableEdgeSampler(shift), lfd, start=2, gen=torch.Generator().manual_seed(0))
    hook.new_epoch(lambda: student.detach())
    assert lfd.weight is None  # before start: every edge
    hook.new_epoch(lambda: student.detach())
    assert lfd.weight is not None and set(lfd.weight.unique().tolist()) <= {0.0, 1.0}
    state = hook.state_dict()
    other = ReliableEdges(ReliableEdgeSampler(shift), LFDTerm(teacher, edges), 2, torch.Generator())
    other.load_state_dict(state)
    assert other.epoch == 2 and torch.equal(other.lfd.weight, lfd.weight)
    assert other.sampler.power == hook.sampler.power
    with pytest.raises(ValueError, match="full-batch LFD"):
        ReliableEdges(ReliableEdgeSampler(shift), LFDTerm(teacher), 2, torch.Generator())
