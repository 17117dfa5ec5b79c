"""`g2m leaderboard`: OGB's submission shape from a run on the OGB-format stand-in."""

import json
import statistics

import pytest
from test_data_loaders import write_ogbn_arxiv_standin
from typer.testing import CliRunner

from g2m.cli.main import app
from g2m.errors import G2MError
from g2m.experiments.leaderboard import leaderboard_entry, student_parameters

runner = CliRunner()


def test_leaderboard_entry_from_a_ten_seed_run_on_the_ogbn_standin(tmp_path):
    write_ogbn_arxiv_standin(tmp_path / "data")
    out = tmp_path / "run"
    res = runner.invoke(
        app,
        [
            "run",
            "-d",
            "ogbn-arxiv",
            "--teacher",
            "sage",
            "--methods",
            "glnn",
            "--seeds",
            "10",
            "--teacher-epochs",
            "2",
            "--student-epochs",
            "2",
            "--data-root",
            str(tmp_path / "data"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--out",
            str(out),
            "-q",
        ],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app,
        ["leaderboard", str(out), "--method", "glnn", "--json", "--data-root", str(tmp_path / "data")],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    entry = json.loads(res.stdout)
    runs = [r for r in json.loads((out / "results.json").read_text())["runs"] if r["model"] == "glnn"]
    assert entry["runs"] == 10 and entry["seeds"] == list(range(10))
    assert entry["test_mean"] == pytest.approx(statistics.fmean(r["test"] for r in runs))
    assert entry["val_std"] == pytest.approx(statistics.stdev(r["val"] for r in runs))
    # GLNN's ogbn-arxiv MLP: 128 -> 256 -> 256 -> 40 with two batch norms
    assert entry["parameters"] == (128 * 256 + 256) + (256 * 256 + 256) + (256 * 40 + 40) + 2 * 2 * 256
    assert (
        "g2m run --dataset ogbn-arxiv" in entry["command"]
        and "--teacher-epochs 2" in entry["command"]
        and "CPU" in entry["hardware"]
    )
    md = runner.invoke(app, ["leaderboard", str(out), "--method", "glnn", "--data-root", str(tmp_path / "data")])
    assert "| g2m glnn (teacher sage) |" in md.output and "10 |" in md.output


def test_leaderboard_refuses_too_few_runs_and_unknown_methods():
    results = {
        "experiment": {"dataset": "cora"},
        "metric": "accuracy",
        "runs": [{"model": "mlp", "seed": s, "val": 0.5, "test": 0.5} for s in range(3)],
    }
    with pytest.raises(G2MError, match="at least 10 runs; 'mlp' has 3"):
        leaderboard_entry(results, "mlp")
    with pytest.raises(G2MError, match="no runs of 'llp'"):
        leaderboard_entry(results, "llp")
    assert leaderboard_entry(results, "mlp", min_runs=3)["test_std"] == 0.0


def test_link_entry_reports_the_asked_metric_and_counts_the_scorer():
    runs = [{"model": "llp", "seed": s, "val": 0.6, "hits@20": 0.5 + s / 100, "mrr": 0.3} for s in range(10)]
    results = {
        "experiment": {"dataset": "cora", "teacher_seed": None},
        "runs": runs,
        "student_configs": {"llp": {"method": "llp", "hidden": 8, "num_layers": 2}},
    }
    entry = leaderboard_entry(results, "llp", metric="mrr", dims=(5, 0))
    assert entry["metric"] == "mrr" and entry["test_mean"] == pytest.approx(0.3)
    assert entry["parameters"] == student_parameters({"method": "llp", "hidden": 8, "num_layers": 2}, 5, 0, link=True)
    assert entry["parameters"] > (5 * 8 + 8) + (8 * 8 + 8)  # encoder plus the scorer
    with pytest.raises(G2MError, match="choose one of hits@20, mrr"):
        leaderboard_entry(results, "llp", metric="hits@50")
