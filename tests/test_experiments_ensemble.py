"""EHDM's ensemble of link students (``g2m ensemble``): the mean of the students' link
probabilities, seed by seed, on the split they share."""

import json

import pytest
import torch
from typer.testing import CliRunner

from g2m.cli.main import app
from g2m.data import get_spec, load_dataset
from g2m.errors import G2MError
from g2m.evaluation.report import read_results
from g2m.experiments.ensemble import ensemble_link_scores, run_link_ensemble
from g2m.experiments.link import LinkExperiment, link_split_for, run_link_experiment
from g2m.layers import LinkScorer
from g2m.students.mlp import MLP

FAST = {"hidden": 16, "epochs": 15, "patience": 15}


def _run(tmp_path, teacher: str, seeds: int = 2, save: bool = True) -> str:
    """A saved-students link run of a heuristic teacher on csbm, written as ``g2m run`` writes it."""
    from g2m.evaluation.report import write_results

    out = tmp_path / teacher
    exp = LinkExperiment(
        "csbm",
        teacher,
        ("llp",),
        seeds=seeds,
        split_seed=0,
        use_cache=False,
        student_overrides=FAST,
        save_students=str(tmp_path / f"{teacher}-students") if save else None,
    )
    result = run_link_experiment(exp, progress=False, device="cpu")
    write_results(out, result, result["table"])
    return str(out)


def test_one_student_alone_is_its_own_ensemble_and_the_mean_of_probabilities_is_scored():
    graph = load_dataset("csbm")
    split = link_split_for(graph, get_spec("csbm"), "transductive", 0)
    torch.manual_seed(0)
    students = [(MLP(graph.num_features, 8, hidden=8).eval(), LinkScorer("dot", 8).eval()) for _ in range(2)]
    from g2m.training.link import evaluate_link

    with torch.no_grad():
        alone = evaluate_link(students[0][0](graph.x), students[0][1], split)
    assert ensemble_link_scores(students[:1], graph, split) == pytest.approx(alone)  # sigmoid keeps every rank
    with torch.no_grad():
        hs = [enc(graph.x) for enc, _ in students]
    from g2m.training.link import evaluate_pairs

    mean = evaluate_pairs(
        lambda p: torch.stack([torch.sigmoid(sc.score_pairs(h, p)) for h, (_, sc) in zip(hs, students)]).mean(0),
        split,
    )
    assert ensemble_link_scores(students, graph, split) == pytest.approx(mean)
    with pytest.raises(ValueError, match="at least one student"):
        ensemble_link_scores([], graph, split)


@pytest.mark.slow
def test_ensemble_of_saved_runs_pairs_with_a_member_and_refuses_what_it_cannot_score(tmp_path):
    cn, ra = _run(tmp_path, "cn"), _run(tmp_path, "ra")
    twice = run_link_ensemble([cn, cn], "llp", device="cpu")  # the same students twice: the member's scores
    member = {r["seed"]: r for r in read_results(cn)["runs"] if r["model"] == "llp"}
    for row in (r for r in twice["runs"] if r["model"] == "ensemble"):
        assert {k: row[k] for k in ("val", "hits@20", "rocauc")} == pytest.approx(
            {k: member[row["seed"]][k] for k in ("val", "hits@20", "rocauc")}
        )

    runner = CliRunner()
    done = runner.invoke(app, ["ensemble", cn, ra, "--out", str(tmp_path / "ens"), "--device", "cpu"])
    assert done.exit_code == 0, done.output
    result = json.loads((tmp_path / "ens" / "results.json").read_text())
    assert [r["seed"] for r in result["runs"] if r["model"] == "ensemble"] == [0, 1]
    assert result["experiment"]["teacher"] == "cn+ra" and "provenance" in result
    paired = runner.invoke(
        app, ["compare", str(tmp_path / "ens"), "--against", cn, "--across-teachers", "--a", "ensemble", "--b", "llp"]
    )
    assert paired.exit_code == 0, paired.output
    assert "paired by seed over 2 seeds" in paired.output

    with pytest.raises(G2MError, match="at least two teachers"):
        run_link_ensemble([cn])
    with pytest.raises(G2MError, match="saved no students"):
        run_link_ensemble([cn, _run(tmp_path / "unsaved", "aa", save=False)])
    with pytest.raises(G2MError, match="no mlp students"):
        run_link_ensemble([cn, ra], "mlp")


def test_a_resumed_run_asked_to_save_its_students_trains_the_ones_it_had_not_saved(tmp_path):
    """A finished student is reused from the progress file only when it need not be saved, or was:
    adding --save-students to a run that resumes saves every student (as the node runs do)."""
    log = str(tmp_path / "progress.jsonl")
    common = dict(methods=("mlp",), seeds=1, use_cache=False, student_overrides={"hidden": 8, "epochs": 2})
    first = run_link_experiment(LinkExperiment("csbm", "cn", **common), progress=False, resume=log, device="cpu")
    saved = tmp_path / "students"
    again = LinkExperiment("csbm", "cn", save_students=str(saved), **common)
    second = run_link_experiment(again, progress=False, resume=log, device="cpu")
    assert (saved / "mlp-seed0" / "student.json").is_file()
    rows = [[r for r in res["runs"] if r["model"] == "mlp"][0] for res in (first, second)]
    assert rows[0]["rocauc"] == pytest.approx(rows[1]["rocauc"])  # retrained: the same student, deterministic
