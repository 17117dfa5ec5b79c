"""NOSMOG's additions (position features, similarity distillation, adversarial augmentation)
and the heterophily-safe FF-G2M, as options of any node objective."""

from dataclasses import replace

import pytest
import torch

from g2m.config import StudentConfig, TeacherConfig, student_config
from g2m.data import load_dataset, make_graph, make_node_split
from g2m.data.sampling import to_csr
from g2m.losses.adversarial import pgd_perturbation
from g2m.students.mlp import MLP
from g2m.students.position import DeepWalkSettings, deepwalk, lookup_position, position_features
from g2m.teachers.inference import ShardedInference
from g2m.teachers.knowledge import TeacherKnowledge
from g2m.teachers.models import build_teacher
from g2m.training.node_student import distill_node_student, epoch_batches
from g2m.training.node_teacher import train_node_teacher

SMALL_WALKS = DeepWalkSettings(dim=16, walk_length=10, walks_per_node=2, window=3, epochs=1)


def two_cliques() -> torch.Tensor:
    """Two 6-cliques joined by one edge (5 - 6)."""
    edges = [(i, j) for block in (range(6), range(6, 12)) for i in block for j in block if i != j]
    edges += [(5, 6), (6, 5)]
    return torch.tensor(edges).t()


def test_deepwalk_places_cliques_apart_and_is_deterministic():
    ei = two_cliques()
    for walker in ("g2m", "auto"):  # g2m's walker and torch-cluster's where installed
        assert deepwalk(ei, 12, SMALL_WALKS, seed=2, walker=walker).shape == (12, 16)
    settings = DeepWalkSettings(dim=8, walk_length=20, walks_per_node=10, window=4, epochs=40, lr=0.05, batch_size=4)
    emb = deepwalk(ei, 12, settings, seed=1)
    assert emb.shape == (12, 8)
    again = deepwalk(ei, 12, settings, seed=1)
    assert torch.equal(emb, again)
    cos = torch.nn.functional.cosine_similarity(emb[:, None], emb[None], dim=-1)
    same = torch.block_diag(torch.ones(6, 6), torch.ones(6, 6)).bool() & ~torch.eye(12, dtype=torch.bool)
    assert cos[same].mean() > cos[~same & ~torch.eye(12, dtype=torch.bool)].mean() + 0.3


def edge_list_mean(table, known, edge_index, nodes):
    """Reference: for each of ``nodes``, the mean of ``table`` over the ``known`` sources of
    the edges pointing into it (zeros where none), from the edge list."""
    src, dst = edge_index
    out = torch.zeros(nodes.numel(), table.size(1))
    for k, v in enumerate(nodes.tolist()):
        rows = [table[u] for u, w in zip(src.tolist(), dst.tolist()) if w == v and known[u]]
        if rows:
            out[k] = torch.stack(rows).mean(0)
    return out


def test_lookup_position_uses_known_neighbours_only():
    table = torch.arange(12, dtype=torch.float).view(6, 2)
    known = torch.tensor([True, True, True, False, False, False])
    ei = torch.tensor([[0, 1, 4, 2, 3], [3, 3, 3, 4, 5]])  # 3 <- 0, 1, 4 (unknown); 4 <- 2; 5 <- 3 (unknown)
    incoming = to_csr(ei.flip(0), 6)  # row v: the sources of the edges into v
    out = lookup_position(incoming, table, torch.tensor([3, 4, 5]), known)
    torch.testing.assert_close(out, torch.tensor([[1.0, 2.0], [4.0, 5.0], [0.0, 0.0]]))
    # on an undirected graph, against the edge-list reference, with and without the mask
    g = load_dataset("csbm", num_nodes=300, num_classes=3, avg_degree=6, num_features=8)
    table = torch.randn(300, 5)
    known = torch.rand(300, generator=torch.Generator().manual_seed(0)) < 0.7
    nodes = torch.tensor([0, 7, 42, 299])
    csr = to_csr(g.edge_index, 300)
    torch.testing.assert_close(
        lookup_position(csr, table, nodes, known), edge_list_mean(table, known, g.edge_index, nodes)
    )
    everyone = torch.ones(300, dtype=torch.bool)
    torch.testing.assert_close(lookup_position(csr, table, nodes), edge_list_mean(table, everyone, g.edge_index, nodes))


def test_position_features_never_see_held_out_nodes():
    g = load_dataset("csbm", num_nodes=300, num_classes=3, avg_degree=6, num_features=8)
    split = make_node_split(g, "random", "inductive", seed=0, inductive_fraction=0.2)
    view = split.observed_view(g)
    table = position_features(g.num_nodes, g.edge_index, split.observed, view.edge_index, SMALL_WALKS, seed=0)
    observed_only = deepwalk(view.edge_index, split.observed.numel(), SMALL_WALKS, seed=0)
    torch.testing.assert_close(table[split.observed], observed_only)  # the held-out graph changes nothing
    known = torch.zeros(g.num_nodes, dtype=torch.bool)
    known[split.observed] = True
    torch.testing.assert_close(table[split.test_ind], edge_list_mean(table, known, g.edge_index, split.test_ind))


def test_pgd_stays_in_the_ball_and_raises_the_loss():
    torch.manual_seed(0)
    w = torch.randn(5, 3, requires_grad=True)
    x, y = torch.randn(40, 5), torch.randint(0, 3, (40,))
    loss = lambda inp: torch.nn.functional.cross_entropy(inp @ w, y)  # noqa: E731
    delta = pgd_perturbation(loss, x, eps=0.1, steps=5, gen=torch.Generator().manual_seed(0))
    assert delta.abs().max() <= 0.1 + 1e-7 and not delta.requires_grad
    assert loss(x + delta) > loss(x) and w.grad is None  # the parameters got no gradient
    with pytest.raises(ValueError, match="eps"):
        pgd_perturbation(loss, x, eps=0.0)


def test_recipes_are_objectives_plus_options():
    nosmog = student_config(None, "nosmog", "sage")
    assert nosmog.objective == "glnn" and nosmog.position == "deepwalk"
    assert nosmog.similarity_weight == 0.1 and nosmog.adversarial_eps == 0.04
    assert nosmog.similarity_kernel == "cosine"  # chosen on validation (README); NOSMOG's own is "dot"
    safe = student_config(None, "ffg2m_safe", "sage", lam=0.3)
    assert safe.objective == "ffg2m" and safe.edge_weighting == "agreement" and safe.lam == 0.3 and safe.guard
    twin = safe.label_only()
    assert twin.objective == "mlp" and twin.edge_weighting == "none" and not twin.guard
    assert twin.model_kwargs() == safe.model_kwargs() and (twin.lr, twin.epochs) == (safe.lr, safe.epochs)
    assert StudentConfig(method="glnn").objective == "glnn"
    with pytest.raises(ValueError, match="edge_weighting"):
        StudentConfig(edge_weighting="cosine")
    with pytest.raises(ValueError, match="position"):
        StudentConfig(position="node2vec")


def test_components_compose_with_any_method_by_name():
    from dataclasses import replace

    from g2m.data.specs import get_spec, with_preset

    # nosmog is exactly GLNN plus NOSMOG's three components
    composed = student_config(None, "glnn+position+similarity+adversarial", "sage")
    assert composed.objective == "glnn"
    assert replace(composed, method="nosmog") == student_config(None, "nosmog", "sage")
    assert replace(student_config(None, "ffg2m+agreement+guard", "sage"), method="ffg2m_safe") == student_config(
        None, "ffg2m_safe", "sage"
    )
    # a recipe keeps its own options and presets under a component
    spec = get_spec("cora")
    krd_pos = student_config(spec, "krd+position", "sage")
    assert krd_pos.objective == "lfd" and krd_pos.reliability == "krd" and krd_pos.position == "deepwalk"
    assert (krd_pos.hidden, krd_pos.dropout, krd_pos.lam) == (1024, 0.6, 0.3)  # [hparams.student.krd.sage]
    # the composed name's own table comes last (quoted in TOML)
    spec2 = with_preset(spec, {"hparams": {"student": {"krd+position": {"position_dim": 16}}}})
    tuned = student_config(spec2, "krd+position", "sage")
    assert tuned.position_dim == 16 and tuned.hidden == 1024
    assert student_config(spec2, "krd", "sage").position_dim == 64
    for bad, match in (
        ("glnn+pos", "unknown component 'pos'"),
        ("gln+position", "unknown node method 'gln'"),
        ("glnn+position+position", "twice"),
        ("glnn+agreement", "has none"),
        ("mlp+guard", "has no teacher"),
    ):
        with pytest.raises(ValueError, match=match):
            student_config(None, bad, "sage")


@pytest.fixture(scope="module")
def cora_like():
    g = load_dataset(
        "csbm", num_nodes=800, num_classes=4, avg_degree=6, homophily=0.8, feature_signal=1.0, num_features=32
    )
    split = make_node_split(g, "random", "inductive", seed=0, inductive_fraction=0.2)
    teacher = train_node_teacher(
        g, split, TeacherConfig(model="sage", hidden=32, epochs=60, patience=20), 0, "accuracy", False
    )
    return g, split, teacher


FAST = dict(hidden=32, epochs=40, patience=20)


def test_nosmog_trains_end_to_end_and_is_deterministic(cora_like):
    g, split, teacher = cora_like
    cfg = student_config(None, "nosmog", "sage", position_dim=8, position_walk_length=10, position_walks=2, **FAST)
    with pytest.raises(ValueError, match="teacher_hidden"):
        distill_node_student(g, split, teacher.logits, cfg, 0, progress=False)
    out = distill_node_student(g, split, TeacherKnowledge(teacher.logits, teacher.hidden), cfg, 0, progress=False)
    again = distill_node_student(g, split, TeacherKnowledge(teacher.logits, teacher.hidden), cfg, 0, progress=False)
    assert out.position.shape == (g.num_nodes, 8) and out.model.in_channels == g.num_features + 8
    assert torch.equal(out.logits, again.logits)
    hist = out.fit.history[0]
    assert hist["similarity"] > 0 and hist["adversarial"] > 0 and hist["kd"] > 0
    assert out.scores["test_ind"] > 0.25 + 0.2  # well above chance (4 classes) on the unseen nodes


def test_ffg2m_safe_equals_glnn_when_the_teacher_separates_every_edge():
    """With w = 0 on every edge (a one-hot teacher whose neighbours all disagree), weighted
    LFD is KD and weighted HFD is zero: ffg2m_safe must train exactly as glnn does."""
    gen = torch.Generator().manual_seed(0)
    n = 200
    colour = torch.arange(n) % 2
    src = torch.randint(0, n, (600,), generator=gen)
    dst = torch.randint(0, n, (600,), generator=gen)
    keep = colour[src] != colour[dst]  # a bipartite graph: every edge joins the two classes
    g = make_graph("bipartite", torch.randn(n, 8, generator=gen), colour, torch.stack([src[keep], dst[keep]]))
    split = make_node_split(g, "random", "transductive", seed=0)
    t = torch.nn.functional.one_hot(colour, 2).float() * 50.0  # confident: w = <p_i, p_j> ~ 0
    common = dict(hidden=16, epochs=15, patience=15, lam=0.2)
    safe = distill_node_student(
        g, split, t, StudentConfig(method="ffg2m_safe", edge_weighting="agreement", **common), 0, progress=False
    )
    glnn = distill_node_student(g, split, t, StudentConfig(method="glnn", **common), 0, progress=False)
    torch.testing.assert_close(safe.logits, glnn.logits, rtol=1e-4, atol=1e-4)
    plain = distill_node_student(g, split, t, StudentConfig(method="ffg2m", **common), 0, progress=False)
    assert not torch.allclose(plain.logits, glnn.logits, atol=1e-2)  # unweighted FF-G2M differs


def test_guard_keeps_the_best_candidate_on_validation(cora_like):
    """The guard returns exactly one of its candidates (labels alone, as configured, and
    unweighted when the configured edges are weighted): the best on validation, ties going to
    the one trusting less structure."""
    g, split, teacher = cora_like
    cfg = student_config(None, "ffg2m_safe", "sage", **FAST)
    plain = {"progress": False}
    labels = distill_node_student(g, split, None, cfg.label_only(), 0, **plain)
    weighted = distill_node_student(g, split, teacher.logits, replace(cfg, guard=False), 0, **plain)
    unweighted = distill_node_student(
        g, split, teacher.logits, replace(cfg, guard=False, edge_weighting="none"), 0, **plain
    )
    assert weighted.guard is None and weighted.guard_val is None  # no guard, no choice recorded
    val = {"labels": labels.scores["val"], "distilled": weighted.scores["val"], "unweighted": unweighted.scores["val"]}
    assert max(val["distilled"], val["unweighted"]) > val["labels"]  # a good teacher on a homophilous graph
    kept = distill_node_student(g, split, teacher.logits, cfg, 0, **plain)
    assert kept.guard_val == val and kept.guard == max(val, key=val.get)
    expected = {"labels": labels, "distilled": weighted, "unweighted": unweighted}[kept.guard]
    assert torch.equal(kept.logits, expected.logits)
    # without edge weights there are two candidates
    glnn = distill_node_student(
        g, split, teacher.logits, student_config(None, "glnn+guard", "sage", **FAST), 0, **plain
    )
    assert set(glnn.guard_val) == {"labels", "distilled"} and glnn.guard == "distilled"
    # a teacher that names the wrong class everywhere: the guard falls back to labels
    wrong = torch.nn.functional.one_hot((g.y + 1) % g.num_classes, g.num_classes).float() * 10.0
    misled = distill_node_student(g, split, wrong, replace(cfg, guard=False), 0, **plain)
    fallback = distill_node_student(g, split, wrong, cfg, 0, **plain)
    assert misled.scores["val"] < labels.scores["val"] - 0.1
    assert fallback.guard == "labels" and torch.equal(fallback.logits, labels.logits)


def test_guard_breaks_ties_towards_less_structure(monkeypatch):
    """Equal validation scores: labels before the configured student before the unweighted one."""
    import g2m.training.node_student as ns
    from g2m.training.loop import FitResult
    from g2m.training.node_student import NodeStudentOutput

    def fake(graph, split, teacher_logits, config, *args, **kwargs):
        if config.guard:
            return real(graph, split, teacher_logits, config, *args, **kwargs)
        kind = "labels" if config.objective == "mlp" else config.edge_weighting
        return NodeStudentOutput(None, torch.zeros(1), {"val": scores[kind]}, FitResult(0, scores[kind], 1, 0.1))

    real = ns.distill_node_student
    monkeypatch.setattr(ns, "distill_node_student", fake)
    cfg = student_config(None, "ffg2m_safe", "sage")
    t = torch.zeros(3, 2)
    cases = (
        ({"labels": 0.5, "agreement": 0.5, "none": 0.5}, "labels"),
        ({"labels": 0.4, "agreement": 0.5, "none": 0.5}, "distilled"),
        ({"labels": 0.4, "agreement": 0.5, "none": 0.6}, "unweighted"),
    )
    for scores, kept in cases:  # noqa: B007 (`fake` reads `scores` when it is called)
        assert real(None, None, t, cfg).guard == kept


def test_guard_lines_count_the_choices():
    from g2m.evaluation.report import guard_lines

    runs = [
        {"model": "teacher (sage)", "seed": 0},
        {"model": "ffg2m_safe", "seed": 0, "guard": "distilled"},
        {"model": "ffg2m_safe", "seed": 1, "guard": "labels"},
        {"model": "ffg2m_safe", "seed": 2, "guard": "labels"},
        {"model": "ffg2m_safe", "seed": 3, "guard": "unweighted"},
        {"model": "glnn+guard", "seed": 0, "guard": "distilled"},
        {"model": "glnn", "seed": 0},
    ]
    assert guard_lines(runs) == [
        "ffg2m_safe: the guard kept distilled on 1; unweighted on 1 (seed 3); labels on 2 (seed 1, 2) of 4 seeds",
        "glnn+guard: the guard kept distilled on 1 of 1 seeds",
    ]
    assert guard_lines(runs[:1]) == []


def test_entropy_shift_and_power_fit():
    from g2m.students.reliability import ReliableEdgeSampler, entropy_shift, fit_power

    w = torch.randn(6, 3)
    x = torch.randn(50, 6)
    shift = entropy_shift(lambda inp: inp @ w, x, x @ w, noise=1.0, seed=0)
    assert shift.shape == (50,) and shift.min() >= 0 and shift.max() == 1
    assert torch.equal(shift, entropy_shift(lambda inp: inp @ w, x, x @ w, noise=1.0, seed=0))
    assert not torch.equal(shift, entropy_shift(lambda inp: inp @ w, x, x @ w, noise=1.0, seed=1))
    # agreement that falls as 1 - x^2 with the shift is fitted with a power near 2
    gen = torch.Generator().manual_seed(0)
    rho = torch.rand(20000, generator=gen)
    agree = torch.rand(20000, generator=gen) < 1 - rho**2
    assert fit_power(rho, agree, bins=10) == pytest.approx(2.0, abs=0.5)
    assert fit_power(rho, torch.zeros_like(agree), start=1.3) == 1.3  # no agreement anywhere: flat, kept
    sampler = ReliableEdgeSampler(torch.tensor([0.0, 1.0, 0.5]), power=1.0)
    ei = torch.tensor([[0, 1, 2] * 400, [1, 2, 0] * 400])
    keep = sampler.sample(ei, torch.Generator().manual_seed(0)).view(400, 3).mean(0)
    torch.testing.assert_close(keep, torch.tensor([1.0, 0.0, 0.5]), atol=0.08, rtol=0)
    with pytest.raises(ValueError, match="entropy shift"):
        ReliableEdgeSampler(torch.tensor([0.1, float("nan")]))


def test_krd_trains_from_the_teachers_reliability(cora_like):
    g, split, teacher = cora_like
    assert torch.isnan(teacher.entropy_shift[split.test_ind]).all()  # unseen nodes have none
    cfg = student_config(None, "krd", "sage", krd_start=5, **FAST)
    assert cfg.objective == "lfd" and cfg.tempered_kd
    with pytest.raises(ValueError, match="entropy shift"):
        distill_node_student(g, split, teacher.logits, cfg, 0, progress=False)
    out = distill_node_student(
        g, split, TeacherKnowledge(teacher.logits, entropy_shift=teacher.entropy_shift), cfg, 0, progress=False
    )
    again = distill_node_student(
        g, split, TeacherKnowledge(teacher.logits, entropy_shift=teacher.entropy_shift), cfg, 0, progress=False
    )
    assert torch.equal(out.logits, again.logits)
    assert out.scores["test"] > 0.25 + 0.2
    with pytest.raises(ValueError, match="lfd or ffg2m"):
        distill_node_student(
            g,
            split,
            TeacherKnowledge(teacher.logits, entropy_shift=teacher.entropy_shift),
            StudentConfig(method="glnn", reliability="krd", **FAST),
            0,
            progress=False,
        )


# ---- NOSMOG's own loop: its additions per mini-batch, the label pass, dropped remainders ----


def test_epoch_batches_drop_the_remainder_but_never_every_node():
    order = torch.arange(1030)
    assert [b.numel() for b in epoch_batches(order, 512, drop_last=False)] == [512, 512, 6]
    assert [b.numel() for b in epoch_batches(order, 512, drop_last=True)] == [512, 512]
    # fewer nodes than a batch: one batch of all of them (the official max(1, n // B) batches)
    assert [b.numel() for b in epoch_batches(order[:140], 512, drop_last=True)] == [140]


def test_mlp_and_gnn_return_the_pre_activation_on_request():
    torch.manual_seed(0)
    x = torch.randn(20, 6)
    mlp = MLP(6, 3, hidden=8, num_layers=2, dropout=0.0, hidden_at="pre-activation").eval()
    _, pre = mlp(x, return_hidden=True)
    assert torch.allclose(pre, mlp.lins[0](x)) and (pre < 0).any()  # before the ReLU
    mlp.hidden_at = "input"
    assert torch.allclose(mlp(x, return_hidden=True)[1], torch.relu(mlp.lins[0](x)))
    with pytest.raises(ValueError, match="num_layers >= 2"):
        MLP(6, 3, num_layers=1, hidden_at="pre-activation")
    edges = torch.tensor([[0, 1, 1, 2, 3, 4], [1, 0, 2, 1, 4, 3]])
    for kind in ("sage", "gcn"):
        gnn = build_teacher(kind, 6, 3, hidden=8, dropout=0.0, sage_aggr="gcn", hidden_at="pre-activation").eval()
        with torch.no_grad():
            logits, pre = gnn(x[:5], edges, return_hidden=True)
            sharded_logits, sharded_pre = ShardedInference(gnn, x[:5], edges)(gnn)
        assert (pre < 0).any() and torch.allclose(sharded_pre, pre, atol=1e-6)
        assert torch.allclose(sharded_logits, logits, atol=1e-6)


@pytest.mark.slow
def test_nosmog_additions_train_in_mini_batches(cora_like):
    g, split, teacher = cora_like
    base = dict(position_dim=8, position_walk_length=10, position_walks=2, batch_size=64, similarity_kernel="dot")
    cfg = student_config(None, "nosmog", "sage", **base, hidden_at="pre-activation", drop_last=True, **FAST)
    out = distill_node_student(g, split, TeacherKnowledge(teacher.logits, teacher.hidden), cfg, 0, progress=False)
    again = distill_node_student(g, split, TeacherKnowledge(teacher.logits, teacher.hidden), cfg, 0, progress=False)
    assert torch.equal(out.logits, again.logits)
    hist = out.fit.history[0]
    assert hist["similarity"] > 0 and hist["adversarial"] > 0 and hist["kd"] > 0
    assert out.scores["test"] > 0.25 + 0.3  # well above chance (4 classes)
    # the projector trains with the student: its weights moved from their initialisation
    plain = distill_node_student(
        g,
        split,
        TeacherKnowledge(teacher.logits, teacher.hidden),
        replace(cfg, similarity_weight=0.0),
        0,
        progress=False,
    )
    assert not torch.equal(plain.logits, out.logits)


def test_label_pass_weights_its_pass_by_lam(cora_like):
    """With lam = 1 the teacher's pass weighs nothing: a teacher that names a random class everywhere
    cannot pull the student down to chance, as it does with lam = 0 (measured: 0.38 against 0.26;
    a label-only MLP scores 0.42 on these weak features)."""
    g, split, teacher = cora_like
    wrong = torch.randn_like(teacher.logits) * 10
    cfg = student_config(None, "glnn", "sage", batch_size=64, label_pass=True, dropout=0.0, **FAST)
    labels = distill_node_student(g, split, wrong, replace(cfg, lam=1.0), 0, progress=False)
    teacher_only = distill_node_student(g, split, wrong, replace(cfg, lam=0.0), 0, progress=False)
    assert labels.scores["test"] > 0.33 and labels.scores["test"] > teacher_only.scores["test"] + 0.1
    assert "ce" in labels.fit.history[0]


def test_loop_options_are_checked_at_construction(monkeypatch):
    with pytest.raises(ValueError, match="set batch_size"):
        StudentConfig(method="glnn", drop_last=True)
    with pytest.raises(ValueError, match="hidden_at must be one of"):
        TeacherConfig(hidden_at="output")
    monkeypatch.setattr("g2m.distributed.is_distributed", lambda: True)
    g = load_dataset("csbm", num_nodes=300, num_classes=3, avg_degree=4, num_features=8)
    split = make_node_split(g, "random", "transductive", seed=0)
    cfg = StudentConfig(method="glnn", batch_size=8, adversarial_eps=0.1, label_pass=True)
    with pytest.raises(ValueError, match="adversarial_eps > 0, label_pass is implemented for a single process"):
        distill_node_student(g, split, torch.zeros(300, 3), cfg, progress=False)


@pytest.fixture(scope="module")
def tined_teacher():
    """A transductive csbm graph and a GraphSAGE teacher with DGL's gcn aggregator (what TINED reads)."""
    g = load_dataset("csbm", num_nodes=600, num_classes=3, avg_degree=6, homophily=0.8, num_features=16)
    split = make_node_split(g, "random", "transductive", seed=0)
    config = TeacherConfig(model="sage", sage_aggr="gcn", hidden=16, dropout=0.0, epochs=60, patience=20)
    return g, split, train_node_teacher(g, split, config, 0, "accuracy", False)


TINED_FAST = dict(epochs=30, patience=10, batch_size=128, label_pass=True, shuffle=False)


def test_tined_trains_from_its_teachers_layers_and_is_deterministic(tined_teacher):
    g, split, teacher = tined_teacher
    assert teacher.layers is not None and teacher.layers.de_ratios.shape == (4,)
    cfg = student_config(None, "tined", "sage", dirichlet_edges=0.5, **TINED_FAST)
    out = distill_node_student(g, split, teacher.knowledge(), cfg, 0, progress=False)
    again = distill_node_student(g, split, teacher.knowledge(), cfg, 0, progress=False)
    assert torch.equal(out.logits, again.logits)
    assert [layer.weight.shape for layer in out.model.layers] == [(16, 16), (16, 16), (3, 16), (3, 3)]
    assert all("dirichlet" in h and h["dirichlet"] >= 0 for h in out.fit.history)
    assert out.scores["test"] > 1 / 3 + 0.25  # well above chance (3 classes)


def test_tined_injected_rate_and_validation_loss(tined_teacher):
    """injected_lr_ratio 0 keeps the teacher's transforms as injected (weight decay 0); select_on loss
    keeps the epoch of the lowest validation cross-entropy."""
    g, split, teacher = tined_teacher
    cfg = student_config(None, "tined", "sage", injected_lr_ratio=0.0, weight_decay=0.0, select_on="loss", **TINED_FAST)
    out = distill_node_student(g, split, teacher.knowledge(), cfg, 0, progress=False)
    assert teacher.layers is not None
    injected = [p.detach().cpu() for p in out.model.injected_parameters()]
    assert torch.equal(injected[0], teacher.layers.weights[0]) and torch.equal(injected[3], teacher.layers.biases[1])
    assert not torch.equal(out.model.layers[0].weight.detach().cpu(), torch.eye(16))  # propagation trained
    assert out.fit.best_val == max(h["val"] for h in out.fit.history) and out.fit.best_val < 0  # -CE


def test_tined_without_its_teachers_layers_names_the_fix(tined_teacher):
    g, split, teacher = tined_teacher
    cfg = student_config(None, "tined", "sage", **TINED_FAST)
    with pytest.raises(ValueError, match="--refresh"):
        distill_node_student(g, split, TeacherKnowledge(teacher.logits, teacher.hidden), cfg, 0, progress=False)
    with pytest.raises(ValueError, match="set teacher_injection"):
        StudentConfig(method="glnn", dirichlet_weight=1.0)


def test_unshuffled_batches_keep_index_order(tined_teacher):
    from g2m.training.node_student import _StudentTraining

    g, split, teacher = tined_teacher
    cfg = student_config(None, "tined", "sage", **TINED_FAST)
    training = _StudentTraining(g, split, teacher.knowledge(), cfg, 0, torch.device("cpu"))
    batches = list(training.batches())
    labels = [b for b in batches if b.labels]
    nodes = [b for b in batches if not b.labels and not b.dirichlet]
    assert torch.equal(torch.cat([b.seeds for b in labels]), split.train.sort().values)
    assert torch.equal(torch.cat([b.seeds for b in nodes]), torch.arange(g.num_nodes))
    assert batches[-1].dirichlet and sum(b.dirichlet for b in batches) == 1  # the epoch's last step
