"""Link teachers and students learn on a small synthetic graph; CLI --task link end to end."""

import json

import pytest
import torch
from typer.testing import CliRunner

from g2m.cli.main import app
from g2m.config import LinkStudentConfig, LinkTeacherConfig
from g2m.data import get_spec, load_dataset, make_link_split
from g2m.errors import G2MError
from g2m.experiments.link import LinkExperiment
from g2m.training.link import distill_link_student, train_link_teacher

GRAPH = dict(num_nodes=600, num_classes=4, avg_degree=8, homophily=0.9, feature_signal=3.0, num_features=16)
FAST_T = dict(hidden=32, epochs=80, patience=40)
FAST_S = dict(hidden=32, epochs=80, patience=40, anchors_per_epoch=256)


@pytest.fixture(scope="module")
def trained():
    g = load_dataset("csbm", **GRAPH)
    split = make_link_split(g, "transductive", seed=0)
    teacher = train_link_teacher(g, split, LinkTeacherConfig(**FAST_T), seed=0, progress=False)
    return g, split, teacher


def test_teacher_beats_chance(trained):
    _, _, teacher = trained
    assert teacher.scores["rocauc"] > 0.75
    assert set(teacher.scores) >= {"hits@10", "hits@20", "hits@50", "hits@100", "mrr", "rocauc", "val"}


@pytest.mark.parametrize("method", ["mlp", "logit", "repr", "llp_rank", "llp_dist", "llp"])
def test_every_student_method_trains(trained, method):
    g, split, teacher = trained
    out = distill_link_student(
        g, split, teacher.embeddings, teacher.scorer, LinkStudentConfig(method=method, **FAST_S), seed=0, progress=False
    )
    assert out.scores["rocauc"] > 0.55
    assert out.embeddings.shape == (g.num_nodes, 32)


def test_llp_on_probabilities_trains_and_bad_scale_is_refused(trained):
    g, split, teacher = trained
    cfg = LinkStudentConfig(method="llp", relational_scores="prob", **FAST_S)
    out = distill_link_student(g, split, teacher.embeddings, teacher.scorer, cfg, seed=0, progress=False)
    assert out.scores["rocauc"] > 0.55
    with pytest.raises(ValueError, match="relational_scores"):
        distill_link_student(
            g,
            split,
            teacher.embeddings,
            teacher.scorer,
            LinkStudentConfig(method="llp", relational_scores="rank", **FAST_S),
            progress=False,
        )
    with pytest.raises(ValueError, match="anchors_per_epoch"):
        distill_link_student(
            g,
            split,
            teacher.embeddings,
            teacher.scorer,
            LinkStudentConfig(method="llp", **{**FAST_S, "anchors_per_epoch": -1}),
            progress=False,
        )


def test_official_fidelity_options_train_and_bad_values_are_refused(trained):
    g, split, teacher = trained
    cfg = LinkStudentConfig(method="llp", rank_average="all-pairs", teacher_score_dropout=0.5, **FAST_S)
    out = distill_link_student(g, split, teacher.embeddings, teacher.scorer, cfg, seed=0, progress=False)
    assert out.scores["rocauc"] > 0.55
    assert not teacher.scorer.training  # the option drops out the teacher's scores, not its mode
    with pytest.raises(ValueError, match="rank_average"):
        LinkStudentConfig(rank_average="valid-pairs")
    with pytest.raises(ValueError, match="teacher_score_dropout"):
        LinkStudentConfig(teacher_score_dropout=1.0)


def test_student_needs_teacher_for_distillation(trained):
    g, split, _ = trained
    with pytest.raises(ValueError, match="needs the teacher"):
        distill_link_student(g, split, None, None, LinkStudentConfig(method="llp", **FAST_S), progress=False)
    with pytest.raises(ValueError, match="unknown link method"):
        LinkExperiment("csbm", methods=("llp", "llq"))


@pytest.mark.slow
def test_experiment_and_cli(tmp_path, monkeypatch):
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "teacher",
            "--task",
            "link",
            "-d",
            "cora",
            "--epochs",
            "3",
            "--hidden",
            "16",
            "--cache-dir",
            str(tmp_path / "c"),
            "--data-root",
            str(tmp_path / "none"),
            "-q",
        ],
    )
    assert res.exit_code != 0  # cora is not in that empty root and the network is off
    res = runner.invoke(
        app,
        [
            "run",
            "--task",
            "link",
            "-d",
            "csbm",
            "--methods",
            "mlp,llp",
            "--seeds",
            "2",
            "--teacher-hidden",
            "16",
            "--student-hidden",
            "16",
            "--epochs",
            "30",
            "--patience",
            "10",
            "--out",
            str(tmp_path / "r"),
            "--cache-dir",
            str(tmp_path / "c"),
            "-q",
        ],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "r" / "results.json").read_text())
    assert {r["model"] for r in data["summary"]} == {"teacher (sage)", "mlp", "llp"}
    assert data["torch_threads"] == torch.get_num_threads()  # results vary with it, so it is recorded
    assert all("hits@20_mean" in r and "mrr_mean" in r for r in data["summary"])
    splits = [r["split"] for r in data["runs"] if r["model"].startswith("teacher")]
    assert len(set(splits)) == 2  # default: split k for seed k
    shown = runner.invoke(app, ["report", str(tmp_path / "r" / "results.json")])
    assert shown.exit_code == 0 and shown.output.strip() == data["table"].strip()  # link tables render too
    res = runner.invoke(
        app,
        [
            "run",
            "--task",
            "link",
            "-d",
            "csbm",
            "--methods",
            "mlp",
            "--seeds",
            "2",
            "--split-seed",
            "1",
            "--teacher-hidden",
            "16",
            "--student-hidden",
            "16",
            "--epochs",
            "5",
            "--patience",
            "5",
            "--out",
            str(tmp_path / "r1"),
            "--cache-dir",
            str(tmp_path / "c"),
            "-q",
        ],
        catch_exceptions=False,
    )
    data = json.loads((tmp_path / "r1" / "results.json").read_text())
    splits = [r["split"] for r in data["runs"] if r["model"].startswith("teacher")]
    assert len(splits) == 2 and splits[0] == splits[1] and "-s1-" in splits[0]
    assert "split 1 for every seed" in data["table"]
    # --teacher-seed: one teacher serves every seed, trained and reported once
    res = runner.invoke(
        app,
        [
            "run",
            "--task",
            "link",
            "-d",
            "csbm",
            "--methods",
            "mlp,llp",
            "--seeds",
            "2",
            "--split-seed",
            "1",
            "--teacher-seed",
            "3",
            "--teacher-hidden",
            "16",
            "--student-hidden",
            "16",
            "--epochs",
            "5",
            "--patience",
            "5",
            "--out",
            str(tmp_path / "r3"),
            "--cache-dir",
            str(tmp_path / "c"),
            "-q",
        ],
        catch_exceptions=False,
    )
    data = json.loads((tmp_path / "r3" / "results.json").read_text())
    teacher_runs = [r for r in data["runs"] if r["model"].startswith("teacher")]
    assert [r["seed"] for r in teacher_runs] == [3]
    assert sorted(r["seed"] for r in data["runs"] if r["model"] == "llp") == [0, 1]
    assert "one teacher (seed 3)" in data["table"]
    for flag in ("--split-seed", "--teacher-seed"):
        res = runner.invoke(app, ["run", "-d", "csbm", flag, "1", "--out", str(tmp_path / "r2")])
        assert isinstance(res.exception, G2MError) and "apply to --task link" in str(res.exception)
    res = runner.invoke(
        app, ["run", "--task", "link", "-d", "csbm", "--teacher-seed", "-2", "--out", str(tmp_path / "r4")]
    )
    assert isinstance(res.exception, G2MError) and "teacher_seed must be non-negative" in str(res.exception)
    res = runner.invoke(
        app, ["teacher", "--task", "link", "-d", "csbm", "--split-seed", "-1", "--cache-dir", str(tmp_path / "c"), "-q"]
    )
    assert isinstance(res.exception, G2MError) and "split seed must be non-negative" in str(res.exception)
    res = runner.invoke(
        app,
        [
            "teacher",
            "--task",
            "link",
            "-d",
            "csbm",
            "--hidden",
            "16",
            "--epochs",
            "3",
            "--cache-dir",
            str(tmp_path / "c"),
            "-q",
        ],
        catch_exceptions=False,
    )
    first = json.loads(res.stdout)
    res = runner.invoke(
        app,
        [
            "teacher",
            "--task",
            "link",
            "-d",
            "csbm",
            "--hidden",
            "16",
            "--epochs",
            "3",
            "--seed",
            "3",
            "--split-seed",
            "1",
            "--cache-dir",
            str(tmp_path / "c"),
            "-q",
        ],
        catch_exceptions=False,
    )
    other = json.loads(res.stdout)
    assert other["seed"] == 3 and "-s1-" in other["split"] and "-s0-" in first["split"]
    assert other["scores"] != first["scores"]
    res = runner.invoke(app, ["teacher", "-d", "csbm", "--split-seed", "1"])
    assert isinstance(res.exception, G2MError) and "--split-seed applies to --task link" in str(res.exception)
    res = runner.invoke(
        app,
        [
            "distill",
            "--task",
            "link",
            "-d",
            "csbm",
            "--method",
            "llp",
            "--hidden",
            "16",
            "--epochs",
            "3",
            "--teacher-cache",
            first["cache"],
            "--cache-dir",
            str(tmp_path / "c"),
            "-q",
        ],
        catch_exceptions=False,
    )
    assert json.loads(res.stdout)["scores"]["rocauc"] > 0


def test_scorer_dropout_acts_only_in_training_and_keeps_state_keys():
    import torch

    from g2m.teachers.link import LinkScorer

    torch.manual_seed(0)
    plain, dropped = LinkScorer("mlp", 8), LinkScorer("mlp", 8, dropout=0.5)
    dropped.load_state_dict(plain.state_dict())  # same parameter names: caches stay loadable
    h_u, h_v = torch.randn(64, 8), torch.randn(64, 8)
    plain.eval(), dropped.eval()
    assert torch.equal(plain(h_u, h_v), dropped(h_u, h_v))
    dropped.train()
    assert not torch.allclose(plain(h_u, h_v), dropped(h_u, h_v))
    with pytest.raises(ValueError, match="scorer dropout"):
        LinkScorer("mlp", 8, dropout=1.0)


def test_teacher_candidates_keep_the_best_validation_teacher(tmp_path):
    runner = CliRunner()
    common = [
        "run",
        "--task",
        "link",
        "-d",
        "csbm",
        "--methods",
        "mlp",
        "--seeds",
        "1",
        "--split-seed",
        "0",
        "--teacher-hidden",
        "16",
        "--student-hidden",
        "16",
        "--epochs",
        "5",
        "--patience",
        "5",
        "--cache-dir",
        str(tmp_path / "c"),
        "-q",
    ]
    vals = {}
    for t in range(3):  # each candidate alone
        runner.invoke(
            app, [*common, "--teacher-seed", str(t), "--out", str(tmp_path / f"t{t}")], catch_exceptions=False
        )
        run = json.loads((tmp_path / f"t{t}" / "results.json").read_text())["runs"][0]
        vals[t] = run["val"]
    res = runner.invoke(
        app,
        [*common, "--teacher-seed", "0", "--teacher-candidates", "3", "--out", str(tmp_path / "best")],
        catch_exceptions=False,
    )
    assert res.exit_code == 0
    data = json.loads((tmp_path / "best" / "results.json").read_text())
    teacher = data["runs"][0]
    best = max(vals, key=lambda t: (vals[t], -t))  # highest validation, the first on a tie
    assert teacher["seed"] == best and teacher["val"] == vals[best] and teacher["candidates"] == 3
    assert "best validation of 3 teacher seeds" in data["table"]
    res = runner.invoke(app, ["run", "-d", "csbm", "--teacher-candidates", "3", "--out", str(tmp_path / "n")])
    assert isinstance(res.exception, G2MError) and "apply to --task link" in str(res.exception)


def test_a_heuristic_teacher_runs_without_training_and_refuses_what_it_lacks(tmp_path):
    from g2m.experiments.link import run_link_experiment

    exp = LinkExperiment(
        "csbm",
        "ra",
        ("mlp", "llp"),
        seeds=1,
        use_cache=False,
        student_overrides={"hidden": 16, "epochs": 20, "patience": 20},
    )
    result = run_link_experiment(exp, progress=False, device="cpu")
    rows = {r["model"]: r for r in result["runs"]}
    assert set(rows) == {"teacher (ra)", "mlp", "llp"}
    from g2m.experiments.link import link_split_for
    from g2m.teachers.heuristic import HeuristicScorer
    from g2m.training.link import evaluate_heuristic

    graph = load_dataset("csbm")
    split = link_split_for(graph, get_spec("csbm"), "transductive", 0)
    own = evaluate_heuristic(HeuristicScorer("ra", split.message_edge_index, graph.num_nodes), split)
    assert {k: rows["teacher (ra)"][k] for k in own} == own  # the row is the heuristic's own scores
    assert result["teacher_config"] == {"model": "ra"} and "ra teacher" in result["title"]
    for bad, match in [
        (dict(methods=("repr",)), "has none"),
        (dict(teacher_overrides={"hidden": 8}), "not trained"),
        (dict(teacher_candidates=2), "a heuristic is not trained"),
    ]:
        with pytest.raises(ValueError, match=match):
            LinkExperiment("csbm", "ra", **{"methods": ("llp",), **bad})
    res = CliRunner().invoke(app, ["teacher", "--task", "link", "-d", "csbm", "-t", "cn", "--device", "cpu", "-q"])
    assert res.exit_code != 0 and "needs no training" in str(res.exception)
