"""What a new user hits first (one test per item of the newcomer issue)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import g2m_process as g2m
from typer.testing import CliRunner

from g2m.cli.main import app

#: the full tier only (make test-fast leaves these out): several processes, end-to-end runs
pytestmark = pytest.mark.slow

runner = CliRunner()
SMALL = ["--epochs", "8", "--patience", "8", "--student-hidden", "16", "--teacher-hidden", "16", "-q"]
TINY = ["--epochs", "8", "--patience", "8", "--hidden", "16", "-q"]


def test_out_under_a_file_fails_before_training(tmp_path):
    blocker = tmp_path / "texas.log"
    blocker.write_text("a file")
    start = time.perf_counter()
    for cmd in (["run", "-d", "csbm", "--seeds", "2"], ["distill", "-d", "csbm", "--method", "mlp"]):
        proc = g2m(*cmd, "--out", blocker / "sub", "--cache-dir", tmp_path / "c", "-q")
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert f"--out {blocker / 'sub'} cannot be created: {blocker} is a file" in proc.stderr
    proc = g2m("run", "-d", "csbm", "--out", blocker, "-q", "--cache-dir", tmp_path / "c")
    assert proc.returncode == 2 and f"--out {blocker} is a file" in proc.stderr
    assert not (tmp_path / "c").exists()  # no teacher was trained
    assert time.perf_counter() - start < 60


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_out_fails_before_training(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    proc = g2m("run", "-d", "csbm", "--out", locked / "r", "-q", "--cache-dir", tmp_path / "c")
    assert proc.returncode == 2 and "no write permission" in proc.stderr and not (tmp_path / "c").exists()


def test_truncated_cache_is_named_and_healed(tmp_path):
    cache = tmp_path / "cache"
    teacher = json.loads(
        runner.invoke(app, ["teacher", "-d", "csbm", "-m", "sage", "--cache-dir", str(cache), *TINY]).stdout
    )
    tensors = Path(teacher["cache"]) / "tensors.pt"
    os.truncate(tensors, 1000)
    # distill names the file and retrains the teacher with the hyper-parameters meta.json records
    proc = g2m(
        "distill", "-d", "csbm", "-t", "sage", "--method", "glnn", "--cache-dir", cache, "--out", tmp_path / "s", *TINY
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert f"warning: {tensors} cannot be read" in proc.stderr and "retraining it" in proc.stderr
    healed = json.loads(g2m("teacher", "-d", "csbm", "-m", "sage", "--cache-dir", cache, *TINY).stdout)
    assert healed["from_cache"] and healed["cache"] == teacher["cache"] and healed["scores"] == teacher["scores"]
    # teacher (and run) report an unreadable entry by path and retrain it
    os.truncate(tensors, 1000)
    proc = g2m("teacher", "-d", "csbm", "-m", "sage", "--cache-dir", cache, *TINY)
    assert proc.returncode == 0, proc.stderr
    assert f"warning: {tensors} cannot be read" in proc.stderr and "retraining it" in proc.stderr
    assert json.loads(proc.stdout)["from_cache"] is False
    # a broken meta.json is named; the entry is removed and the error says how to retrain it
    meta = Path(teacher["cache"]) / "meta.json"
    meta.write_text("{ not json")
    proc = g2m(
        "distill", "-d", "csbm", "-t", "sage", "--method", "glnn", "--cache-dir", cache, "--out", tmp_path / "s", *TINY
    )
    assert proc.returncode == 2 and f"{meta} cannot be read" in proc.stderr and "g2m teacher" in proc.stderr
    assert "Traceback" not in proc.stderr and not meta.parent.exists()
    # --refresh retrains a readable entry as well
    json.loads(g2m("teacher", "-d", "csbm", "-m", "sage", "--cache-dir", cache, *TINY).stdout)
    again = json.loads(g2m("teacher", "-d", "csbm", "-m", "sage", "--cache-dir", cache, "--refresh", *TINY).stdout)
    assert again["from_cache"] is False


def test_piped_output_is_one_line_per_model(tmp_path):
    proc = g2m(
        "run",
        "-d",
        "csbm",
        "--methods",
        "mlp,glnn",
        "--seeds",
        "2",
        "--out",
        tmp_path / "r",
        "--cache-dir",
        tmp_path / "c",
        "--epochs",
        "30",
        "--patience",
        "30",
        "--student-hidden",
        "16",
        "--teacher-hidden",
        "16",
    )
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr and "\x1b[" not in proc.stderr  # no progress-bar frames
    done = [line for line in proc.stderr.splitlines() if ": done: " in line]
    assert len(done) == 6  # 2 seeds x (teacher + 2 students)
    assert done[0].startswith("teacher gcn seed 0: done: ") and "best val" in done[0]
    assert len(proc.stdout) + len(proc.stderr) < 5000


def test_compare_defaults_to_the_runs_own_metric(tmp_path):
    runner.invoke(
        app,
        ["run", "-d", "csbm", "--methods", "mlp,ffg2m", "--seeds", "2", "--out", str(tmp_path), "--no-cache", *SMALL],
        catch_exceptions=False,
    )
    res = runner.invoke(app, ["compare", str(tmp_path)], catch_exceptions=False)
    assert res.exit_code == 0 and "ffg2m" in res.output and "test" in res.output


def test_link_inductive_is_refused_with_a_hint(tmp_path):
    start = time.perf_counter()
    proc = g2m(
        "run",
        "--task",
        "link",
        "-d",
        "csbm",
        "--setting",
        "inductive",
        "--out",
        tmp_path,
        "-q",
        "--cache-dir",
        tmp_path / "c",
    )
    assert proc.returncode == 2 and "use --setting production" in proc.stderr
    assert not (tmp_path / "c").exists() and time.perf_counter() - start < 60


def test_export_names_no_temporary_file_and_is_readable(tmp_path):
    student = tmp_path / "student"
    runner.invoke(
        app, ["distill", "-d", "csbm", "--method", "mlp", "--out", str(student), *TINY], catch_exceptions=False
    )
    proc = g2m("export", "--student", student, "--out", tmp_path / "texas.pt2")
    assert proc.returncode == 0 and ".texas.pt2." not in proc.stdout + proc.stderr
    assert (tmp_path / "texas.pt2").stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["student", "texas.pt2"]
    proc = g2m("export", "--student", student, "--out", tmp_path / "texas.pt2" / "x.pt2")
    assert (
        proc.returncode == 2 and ".x.pt2." not in proc.stderr and str(tmp_path / "texas.pt2" / "x.pt2") in proc.stderr
    )


def test_failed_download_leaves_no_empty_folder(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    from g2m.data import load_dataset
    from g2m.errors import DatasetUnavailableError

    with pytest.raises(DatasetUnavailableError):
        load_dataset("pubmed", root)
    assert list(root.iterdir()) == []


def test_help_needs_no_torch_and_shows_switches_plainly():
    code = (
        "import sys; import g2m.cli.main; print(sorted(m for m in ('torch', 'torch_geometric', 'ogb', "
        "'matplotlib') if m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"
    out = runner.invoke(app, ["run", "--help"]).output
    assert "--no-cache" in out and "<bool>" not in out


def test_cache_list_and_clear(tmp_path):
    cache = tmp_path / "cache"
    for model in ("gcn", "sage"):
        runner.invoke(
            app, ["teacher", "-d", "csbm", "-m", model, "--cache-dir", str(cache), *TINY], catch_exceptions=False
        )
    listing = json.loads(runner.invoke(app, ["cache", "list", "--json", "--cache-dir", str(cache)]).stdout)
    assert sorted(t["model"].split("-")[0] for t in listing["teachers"]) == ["gcn", "sage"]
    assert all(t["mib"] > 0 and 0 < t["scores"]["test"] <= 1 for t in listing["teachers"])
    assert "2 teachers" in runner.invoke(app, ["cache", "list", "--cache-dir", str(cache)]).output
    proc = g2m("cache", "clear", "--cache-dir", cache)  # no terminal, no --yes: refused
    assert proc.returncode == 2 and "add --yes" in proc.stderr
    res = runner.invoke(app, ["cache", "clear", "-d", "csbm", "--yes", "--cache-dir", str(cache)])
    assert "deleted 2 cached teachers of csbm" in res.output and not any(cache.rglob("meta.json"))


def test_results_record_provenance_and_students_are_saved(tmp_path):
    runner.invoke(
        app,
        [
            "run",
            "-d",
            "csbm",
            "--methods",
            "mlp,glnn",
            "--seeds",
            "1",
            "--out",
            str(tmp_path / "r"),
            "--save-students",
            str(tmp_path / "s"),
            "--cache-dir",
            str(tmp_path / "c"),
            *SMALL,
        ],
        catch_exceptions=False,
    )
    prov = json.loads((tmp_path / "r" / "results.json").read_text())["provenance"]
    assert prov["g2m"] and prov["torch"] and prov["torch_geometric"] and prov["cpu"]
    assert "--save-students" in prov["command"]
    assert not (tmp_path / "r" / "progress.jsonl").exists()
    res = runner.invoke(
        app, ["export", "--student", str(tmp_path / "s" / "glnn-seed0"), "--out", str(tmp_path / "glnn.pt2")]
    )
    assert res.exit_code == 0 and (tmp_path / "glnn.pt2").is_file()
    evaluated = json.loads(runner.invoke(app, ["eval", "--student", str(tmp_path / "s" / "glnn-seed0")]).stdout)
    row = next(r for r in json.loads((tmp_path / "r" / "results.json").read_text())["runs"] if r["model"] == "glnn")
    assert evaluated["scores"]["test"] == pytest.approx(row["test"])


def test_interrupted_run_resumes_without_retraining(tmp_path, monkeypatch):
    import g2m.experiments.node as node
    from g2m.experiments.node import NodeExperiment, run_node_experiment

    fast = {"epochs": 8, "patience": 8, "hidden": 16}

    def exp(methods):
        return NodeExperiment(
            "csbm",
            "gcn",
            methods,
            seeds=2,
            cache_dir=str(tmp_path / "c"),
            teacher_overrides=fast,
            student_overrides=fast,
        )

    progress = str(tmp_path / "progress.jsonl")
    first = run_node_experiment(exp(("mlp",)), progress=False, resume=progress)  # "interrupted" after mlp
    trained = []
    real = node.distill_node_student
    monkeypatch.setattr(node, "distill_node_student", lambda *a, **k: trained.append(a[3].method) or real(*a, **k))
    second = run_node_experiment(exp(("mlp", "glnn")), progress=False, resume=progress)
    assert trained == ["glnn", "glnn"]  # the two finished mlp students were not retrained
    assert [r["test"] for r in second["runs"] if r["model"] == "mlp"] == [
        r["test"] for r in first["runs"] if r["model"] == "mlp"
    ]
    # another configuration is not taken for a finished one
    changed = NodeExperiment(
        "csbm",
        "gcn",
        ("mlp",),
        seeds=1,
        cache_dir=str(tmp_path / "c"),
        teacher_overrides=fast,
        student_overrides={**fast, "lr": 0.05},
    )
    trained.clear()
    run_node_experiment(changed, progress=False, resume=progress)
    assert trained == ["mlp"]
