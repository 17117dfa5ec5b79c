"""`g2m compare`: clear-margin test and paired difference by seed, checked by hand."""

import json
import statistics
from pathlib import Path

import pytest
from typer.testing import CliRunner

from g2m.cli.main import app
from g2m.errors import G2MError
from g2m.evaluation.compare import compare_methods

MLP = [0.60, 0.70, 0.64, 0.66]
LLP = [0.64, 0.73, 0.69, 0.69]  # +3..+5 on every seed, but within the seed spread
RUNS = (
    [{"model": "teacher (sage)", "seed": 0, "hits@20": 0.9}]
    + [{"model": "mlp", "seed": s, "hits@20": v} for s, v in enumerate(MLP)]
    + [{"model": "llp", "seed": s, "hits@20": v} for s, v in reversed(list(enumerate(LLP)))]
)


def test_comparison_values():
    c = compare_methods(RUNS, "llp", "mlp")
    assert c.seeds == (0, 1, 2, 3)
    assert c.gap == pytest.approx(statistics.mean(LLP) - statistics.mean(MLP))
    assert c.bar == pytest.approx(2 * max(statistics.stdev(LLP), statistics.stdev(MLP)))
    diffs = [x - y for x, y in zip(LLP, MLP)]  # paired by seed, whatever the order of the runs
    assert c.paired_mean == pytest.approx(statistics.mean(diffs))
    assert c.paired_std == pytest.approx(statistics.stdev(diffs))
    assert not c.clear and c.paired_std < c.bar / 4
    assert "not > 2 std" in c.describe()
    wide = [{"model": "llp", "seed": s, "hits@20": v + 0.2} for s, v in enumerate(LLP)]
    assert compare_methods(RUNS[:5] + wide, "llp", "mlp").clear


def test_comparison_errors():
    with pytest.raises(ValueError, match="no runs of 'repr'"):
        compare_methods(RUNS, "repr", "mlp")
    with pytest.raises(ValueError, match="ran different seeds"):
        compare_methods(RUNS[:-1], "llp", "mlp")
    with pytest.raises(ValueError, match="has no 'mrr'"):
        compare_methods(RUNS, "llp", "mlp", "mrr")


def test_compare_cli(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps({"runs": RUNS}))
    res = CliRunner().invoke(app, ["compare", str(tmp_path)], catch_exceptions=False)
    assert res.exit_code == 0 and res.output.startswith("llp - mlp hits@20 = +3.75 (not > 2 std")
    res = CliRunner().invoke(app, ["compare", str(tmp_path), "--a", "glnn"])
    assert isinstance(res.exception, G2MError) and "no runs of 'glnn'" in str(res.exception)


# node runs: glnn has the best validation mean, ffg2m the best test mean (which must not matter)
NODE_RUNS = (
    [{"model": "teacher (sage)", "seed": s, "val": 0.99, "test": 0.99} for s in range(3)]
    + [
        {"model": "glnn", "seed": s, "val": v, "test": t}
        for s, (v, t) in enumerate([(0.84, 0.79), (0.86, 0.80), (0.85, 0.78)])
    ]
    + [
        {"model": "ffg2m", "seed": s, "val": v, "test": t}
        for s, (v, t) in enumerate([(0.85, 0.82), (0.84, 0.83), (0.85, 0.81)])
    ]
    + [{"model": "mlp", "seed": s, "val": 0.6, "test": 0.6} for s in range(3)]
)


def test_best_on_validation_ignores_test_and_the_teacher():
    from g2m.evaluation.compare import best_on_validation

    best = best_on_validation(NODE_RUNS)
    assert best.method == "glnn" and best.seeds == (0, 1, 2)
    assert [row[0] for row in best.ranking] == ["glnn", "ffg2m", "mlp"]
    assert best.ranking[0][1] == pytest.approx(0.85) and best.ranking[1][3] == pytest.approx(0.82)
    assert best_on_validation(NODE_RUNS, ["ffg2m", "mlp"]).method == "ffg2m"
    tie = [dict(r, val=0.7) for r in NODE_RUNS if r["model"] in ("ffg2m", "glnn")]
    assert best_on_validation(tie).method == "glnn"  # a tie goes to the method listed first
    assert best_on_validation(tie).tied == ("ffg2m",) and best.tied == ()
    assert "glnn ties with ffg2m on validation" in best_on_validation(tie).describe()
    assert "ties" not in best.describe()
    with pytest.raises(ValueError, match="different seeds"):
        best_on_validation(NODE_RUNS[:-1])
    with pytest.raises(ValueError, match="no runs of"):
        best_on_validation(NODE_RUNS, ["krd"])
    with pytest.raises(ValueError, match="no student runs"):
        best_on_validation(NODE_RUNS[:3])
    with pytest.raises(ValueError, match="run 'mlp' seed 0 has no 'val' or 'test' score"):
        best_on_validation(RUNS)


def test_compare_best_on_a_link_run_shows_hits(tmp_path):
    runs = [dict(r, val=0.8 + (r["model"] == "llp") / 100) for r in RUNS]  # llp: the better validation
    (tmp_path / "results.json").write_text(json.dumps({"runs": runs}))
    res = CliRunner().invoke(app, ["compare", str(tmp_path), "--best"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "  llp: val 81.00 +- 0.00, hits@20 68.75 +- 3.69  <- best on validation" in res.output


@pytest.mark.slow
def test_compare_best_cli_and_run_methods_best(tmp_path, monkeypatch):
    from dataclasses import replace

    import g2m.data
    from g2m.data.specs import get_spec

    (tmp_path / "results.json").write_text(json.dumps({"runs": NODE_RUNS}))
    res = CliRunner().invoke(app, ["compare", str(tmp_path), "--best"], catch_exceptions=False)
    assert res.exit_code == 0 and "glnn: val 85.00 +- 1.00, test 79.00 +- 1.00  <- best on validation" in res.output
    # `g2m run --methods best` needs the dataset's record, and trains what it names
    args = [
        "run",
        "-d",
        "csbm",
        "--methods",
        "best,mlp",
        "--seeds",
        "1",
        "--epochs",
        "5",
        "--no-cache",
        "-q",
        "--out",
        str(tmp_path / "run"),
    ]
    res = CliRunner().invoke(app, args)
    assert isinstance(res.exception, G2MError) and "records no best student for a gcn teacher" in str(res.exception)
    recorded = replace(get_spec("csbm"), best={"gcn": {"method": "glnn+position"}})
    monkeypatch.setattr(g2m.data, "get_spec", lambda name: recorded)
    res = CliRunner().invoke(app, args, catch_exceptions=False)
    assert res.exit_code == 0 and "best student recorded for csbm with a gcn teacher: glnn+position" in res.output
    ran = json.loads((tmp_path / "run" / "results.json").read_text())
    assert ran["experiment"]["methods"] == ["glnn+position", "mlp"]


def test_compare_against_another_run_pairs_by_seed(tmp_path):
    teacher = [{"model": "teacher (gcn)", "seed": s, "val": 0.7, "test": 0.71 + s / 100} for s in range(4)]
    exp = {"dataset": "cora", "setting": "transductive", "split": "glnn", "teacher": "gcn"}
    full = {
        "experiment": exp,
        "runs": teacher + [{"model": "ffg2m", "seed": s, "val": 0.7, "test": v} for s, v in enumerate(MLP)],
    }
    mini = {
        "experiment": exp,
        "runs": teacher + [{"model": "ffg2m", "seed": s, "val": 0.7, "test": v} for s, v in enumerate(LLP)],
    }
    for name, res in (("full", full), ("mini", mini)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(res))
    out = CliRunner().invoke(
        app,
        ["compare", str(tmp_path / "mini"), "--a", "ffg2m", "--against", str(tmp_path / "full")],
        catch_exceptions=False,
    )
    assert out.exit_code == 0, out.output
    diffs = [x - y for x, y in zip(LLP, MLP)]
    assert f"paired by seed over 4 seeds: {100 * statistics.mean(diffs):+.2f}" in out.stdout
    other = {
        **full,
        "runs": [{**r, "test": r["test"] + 0.01} if r["model"].startswith("teacher") else r for r in full["runs"]],
    }
    (tmp_path / "full" / "results.json").write_text(json.dumps(other))
    refused = CliRunner().invoke(
        app, ["compare", str(tmp_path / "mini"), "--a", "ffg2m", "--against", str(tmp_path / "full")]
    )
    assert isinstance(refused.exception, G2MError) and "teachers differ seed by seed" in str(refused.exception)


def test_compare_across_teachers_pairs_runs_of_other_teachers_on_one_split(tmp_path):
    """`--across-teachers`: a heuristic-taught run against a GNN-taught one on the same split and
    seeds (what each teacher teaches); other splits are refused, and without the flag, other teachers."""

    def run(teacher, split, scores):
        return {
            "experiment": {"dataset": "cora", "setting": "transductive", "split": None, "teacher": teacher},
            "runs": [{"model": f"teacher ({teacher})", "seed": 0, "split": split, "val": 0.5, "test": 0.5}]
            + [{"model": m, "seed": s, "val": 0.8, "hits@20": v} for m in ("llp", "mlp") for s, v in enumerate(scores)],
        }

    for name, res in (
        ("cn", run("cn", "s0", LLP)),
        ("sage", run("sage", "s0", MLP)),
        ("other", run("sage", "s1", MLP)),
    ):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(res))
    args = ["compare", str(tmp_path / "cn"), "--a", "llp", "--against"]
    out = CliRunner().invoke(app, [*args, str(tmp_path / "sage"), "--across-teachers"], catch_exceptions=False)
    diffs = [x - y for x, y in zip(LLP, MLP)]
    assert out.exit_code == 0 and f"paired by seed over 4 seeds: {100 * statistics.mean(diffs):+.2f}" in out.stdout
    out = CliRunner().invoke(app, [*args, str(tmp_path / "sage"), "--b", "mlp", "--across-teachers"])
    assert out.exit_code == 0 and f"- mlp ({tmp_path / 'sage'})" in out.stdout  # --b is kept when given
    for extra, message in [
        ([str(tmp_path / "sage")], "the runs differ in teacher ('cn' and 'sage')"),
        ([str(tmp_path / "other"), "--across-teachers"], "the runs' splits differ"),
    ]:
        refused = CliRunner().invoke(app, [*args, *extra])
        assert isinstance(refused.exception, G2MError) and message in str(refused.exception), refused.output
    refused = CliRunner().invoke(app, ["compare", str(tmp_path / "cn"), "--across-teachers"])
    assert "--across-teachers goes with --against" in str(refused.exception)


def test_best_chooses_on_validation_across_runs_of_other_recipes():
    """`g2m compare --best A B ...`: the students of runs of one dataset and split, trained under
    other presets or recipes, ranked by validation; a run of another dataset is refused."""
    docs = Path(__file__).resolve().parents[1] / "docs" / "data"
    files = [str(docs / "cora-glnn-transductive-sage.json"), str(docs / "nosmog-cora-glnn-transductive.json")]
    runner = CliRunner()
    done = runner.invoke(app, ["compare", "--best", *files])
    assert done.exit_code == 0, done.output
    ranked = [line.split(":")[0].strip() for line in done.output.splitlines()[1:]]
    assert ranked[:2] == ["nosmog (nosmog)", "ffg2m (presets)"] and "glnn (presets)" in ranked
    assert "nosmog (nosmog): val 86.05" in done.output and "<- best on validation" in done.output.splitlines()[1]
    assert "ffg2m (presets): val 86.00" in done.output
    other = str(docs / "nosmog-citeseer-glnn-transductive.json")
    done = runner.invoke(app, ["compare", "--best", files[0], other])
    assert done.exit_code != 0 and "another dataset" in str(done.exception)
    done = runner.invoke(app, ["compare", *files])
    assert done.exit_code != 0 and "several results go with --best" in str(done.exception)


def test_best_across_runs_of_the_same_presets_names_each_by_its_file(tmp_path):
    """Runs under the same presets (e.g. a learning-rate grid) are told apart by their results
    file's name, or by their --out directory's when the file is results.json."""
    source = Path(__file__).resolve().parents[1] / "docs" / "data" / "cora-glnn-transductive-sage.json"
    (tmp_path / "cora-lr0.01.json").write_text(source.read_text())
    (tmp_path / "grid-b").mkdir()
    (tmp_path / "grid-b" / "results.json").write_text(source.read_text())
    done = CliRunner().invoke(
        app, ["compare", "--best", str(tmp_path / "cora-lr0.01.json"), str(tmp_path / "grid-b" / "results.json")]
    )
    assert done.exit_code == 0, done.output
    assert "ffg2m (presets, cora-lr0.01): val 86.00" in done.output
    assert "ffg2m (presets, grid-b): val 86.00" in done.output
