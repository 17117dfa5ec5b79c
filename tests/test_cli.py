import json
import subprocess
import sys

import pytest
from processes import g2m_process
from typer.testing import CliRunner

from g2m.cli.main import app
from g2m.errors import CacheMismatchError, G2MError

runner = CliRunner()
FAST = ["--epochs", "15", "--patience", "15", "--hidden", "16", "-q"]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_help_lists_commands():
    out = invoke("--help").output
    for cmd in ("datasets", "teacher", "distill", "eval", "run", "bench"):
        assert cmd in out


def test_datasets_lists_registry_and_location(data_root):
    out = invoke("datasets", "--data-root", data_root).output
    assert "cora" in out and "2,708" in out and "10,556" in out
    assert f"on disk: {data_root}" in out
    assert "generated in memory" in out and "downloads to" in out


def test_teacher_distill_eval_roundtrip(tmp_path):
    cache = tmp_path / "cache"
    res = invoke("teacher", "-d", "csbm", "-m", "sage", "--cache-dir", cache, *FAST)
    teacher = json.loads(res.stdout)
    assert res.exit_code == 0 and not teacher["from_cache"] and 0 < teacher["scores"]["test"] <= 1
    again = json.loads(invoke("teacher", "-d", "csbm", "-m", "sage", "--cache-dir", cache, *FAST).stdout)
    assert again["from_cache"] and again["scores"] == teacher["scores"]

    out_dir = tmp_path / "student"
    res = invoke(
        "distill", "-d", "csbm", "-t", "sage", "--method", "glnn", "--cache-dir", cache, "--out", out_dir, *FAST
    )
    student = json.loads(res.stdout)
    assert (out_dir / "student.pt").is_file() and (out_dir / "student.json").is_file()
    evaluated = json.loads(invoke("eval", "--student", out_dir).stdout)
    assert evaluated["scores"] == pytest.approx(student["scores"])

    # a second teacher with other hyper-parameters makes the choice ambiguous ...
    invoke("teacher", "-d", "csbm", "-m", "sage", "--cache-dir", cache, "--epochs", "5", "-q")
    with pytest.raises(G2MError, match="several cached sage teachers"):
        invoke("distill", "-d", "csbm", "-t", "sage", "--method", "glnn", "--cache-dir", cache, *FAST)
    # ... until one is named; a teacher cached for another seed is refused
    res = invoke(
        "distill",
        "-d",
        "csbm",
        "-t",
        "sage",
        "--method",
        "glnn",
        "--cache-dir",
        cache,
        "--teacher-cache",
        teacher["cache"],
        "--out",
        out_dir,
        *FAST,
    )
    assert json.loads(res.stdout)["scores"] == student["scores"]
    with pytest.raises(CacheMismatchError, match="seed"):
        invoke(
            "distill",
            "-d",
            "csbm",
            "-t",
            "sage",
            "--method",
            "glnn",
            "--seed",
            "1",
            "--teacher-cache",
            teacher["cache"],
            "--out",
            out_dir,
            *FAST,
        )


@pytest.mark.slow
def test_run_writes_json_and_table(tmp_path):
    res = invoke(
        "run",
        "-d",
        "csbm",
        "--methods",
        "mlp,ffg2m,ffg2m_safe",
        "--seeds",
        "2",
        "--out",
        tmp_path,
        "--no-cache",
        "--student-hidden",
        "16",
        "--teacher-hidden",
        "16",
        "--epochs",
        "40",
        "--patience",
        "20",
        "-q",
    )
    assert res.exit_code == 0
    data = json.loads((tmp_path / "results.json").read_text())
    assert {r["model"] for r in data["summary"]} == {"teacher (gcn)", "mlp", "ffg2m", "ffg2m_safe"}
    assert all(r["seeds"] == 2 for r in data["summary"])
    table = (tmp_path / "results.md").read_text()
    assert "| ffg2m |" in table
    # the guarded method records its choice per seed, and the table counts them
    guards = [r["guard"] for r in data["runs"] if r["model"] == "ffg2m_safe"]
    assert len(guards) == 2 and set(guards) <= {"distilled", "unweighted", "labels"}
    assert "ffg2m_safe: the guard kept " in table and " of 2 seeds" in table
    assert all("guard" not in r for r in data["runs"] if r["model"] != "ffg2m_safe")


@pytest.mark.slow
@pytest.mark.parametrize(
    "args,message",
    [
        (["teacher", "-d", "nope"], "unknown dataset 'nope'"),
        (["run", "-d", "csbm", "--setting", "semi", "-q"], "unknown setting"),
        (["run", "-d", "csbm", "--setting", "inductive", "--inductive-fraction", "1.5", "-q"], "inductive_fraction"),
        (["run", "-d", "csbm", "--methods", "mlp,kd9", "-q"], "unknown node method"),
        (["distill", "-d", "csbm", "--method", "glnn", "--cache-dir", "/nonexistent-g2m", "-q"], "run `g2m teacher"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message):
    proc = g2m_process(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_export_round_trip(tmp_path):
    import torch

    from g2m.students.export import load_exported
    from g2m.students.io import load_student

    out_dir = tmp_path / "student"
    invoke("distill", "-d", "csbm", "--method", "mlp", "--out", out_dir, *FAST)
    res = invoke("export", "--student", out_dir, "--out", tmp_path / "s.pt2")
    assert res.exit_code == 0 and (tmp_path / "s.pt2").is_file()
    model, _, meta = load_student(out_dir)
    exported = load_exported(tmp_path / "s.pt2")
    for batch in (1, 7, 300):
        x = torch.randn(batch, meta["in_dim"])
        torch.testing.assert_close(exported(x), model(x))
    # the exported program needs neither PyG nor g2m
    code = (
        f"import sys, torch; sys.modules['torch_geometric'] = None; sys.modules['g2m'] = None; "
        f"m = torch.export.load({str(tmp_path / 's.pt2')!r}).module(); "
        f"print(tuple(m(torch.randn(3, {meta['in_dim']})).shape))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"(3, {meta['out_dim']})"


@pytest.mark.parametrize("task", ["node", "link"])
def test_run_refuses_a_negative_first_seed(task, tmp_path):
    res = runner.invoke(app, ["run", "--task", task, "-d", "csbm", "--first-seed", "-1", "--out", str(tmp_path)])
    assert res.exit_code != 0 and "first_seed must be non-negative, got -1" in str(res.exception)
    assert not (tmp_path / "results.json").exists()


def test_run_from_a_first_seed_runs_those_seeds(tmp_path):
    invoke(
        "run",
        "-d",
        "csbm",
        "--methods",
        "mlp",
        "--seeds",
        "2",
        "--first-seed",
        "3",
        "--student-hidden",
        "16",
        "--teacher-hidden",
        "16",
        "--epochs",
        "5",
        "--patience",
        "5",
        "--out",
        tmp_path,
        "--cache-dir",
        tmp_path / "c",
        "-q",
    )
    data = json.loads((tmp_path / "results.json").read_text())
    assert [(r["model"], r["seed"]) for r in data["runs"]] == [
        ("teacher (gcn)", 3),
        ("mlp", 3),
        ("teacher (gcn)", 4),
        ("mlp", 4),
    ]
    assert data["title"].endswith("2 seeds (3-4)")


def test_quantized_exports_and_serving_bench(tmp_path):
    import torch

    from g2m.students.export import load_exported
    from g2m.students.io import load_student

    out_dir = tmp_path / "student"
    invoke("distill", "-d", "csbm", "--method", "mlp", "--out", out_dir, *FAST)
    model, _, meta = load_student(out_dir)
    x = torch.randn(50, meta["in_dim"])
    for precision, tol in (("int8", 0.05), ("bf16", 0.05)):
        path = tmp_path / f"{precision}.pt"
        res = invoke("export", "--student", out_dir, "--out", path, "--quantize", precision)
        assert res.exit_code == 0 and json.loads(res.stdout)["precision"] == precision
        served = load_exported(path)
        out = served(x)
        assert out.dtype == torch.float32 and out.shape == (50, meta["out_dim"])
        # close to float32 but not equal: the precision really changed
        err = (out - model(x)).abs().max().item()
        assert 0 < err < tol * model(x).abs().max().item(), (precision, err)
    assert invoke("export", "--student", out_dir, "--out", tmp_path / "q.pt", "--quantize", "int4").exit_code == 2

    res = invoke(
        "bench",
        "serving",
        "--student",
        out_dir,
        "--batch-sizes",
        "1,64",
        "--repeats",
        "5",
        "--threads",
        "1",
        "--out",
        tmp_path / "serve",
    )
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "serve" / "serving.json").read_text())
    rows = data["rows"]
    assert {(r["precision"], r["batch"]) for r in rows} == {
        (p, b) for p in ("fp32", "int8", "bf16") for b in (1, 64, 1024)
    }
    fp32 = [r for r in rows if r["precision"] == "fp32"]
    assert all(r["score_change"] == 0.0 for r in fp32) and 0.3 < fp32[0]["test_score"] <= 1.0
    peak_rows = [r for r in rows if r["batch"] == 1024]
    assert all(0 < r["fraction_of_matmul_peak"] for r in peak_rows)
    assert all(r["fraction_of_matmul_peak"] is None for r in rows if r["batch"] != 1024)
    assert data["students"][0]["matmul_peak"]["gflops"] > 0


@pytest.mark.slow
def test_run_with_a_recipe_trains_its_teacher_and_student_loop(data_root, tmp_path, monkeypatch):
    """`--recipe nosmog`: NOSMOG's teacher (a 2 x 128 SAGE on sampled neighbourhoods) and its
    student loop (label pass, batches of 512, remainder dropped), cached apart from the dataset's."""
    monkeypatch.setenv("G2M_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "r"
    args = ["run", "-d", "cora", "-t", "sage", "--split", "glnn", "--recipe", "nosmog", "--methods", "glnn,nosmog"]
    args += ["--seeds", "1", "--epochs", "3", "--data-root", data_root, "--out", out, "-q"]
    invoke(*args)
    result = json.loads((out / "results.json").read_text())
    assert result["experiment"]["recipe"] == "nosmog"
    teacher = result["teacher_config"]
    assert (teacher["hidden"], teacher["batch_size"], list(teacher["fanouts"]), teacher["hidden_at"]) == (
        128,
        512,
        [5, 5],
        "pre-activation",
    )
    student = result["student_configs"]["nosmog"]
    assert (student["label_pass"], student["drop_last"], student["similarity_kernel"]) == (True, True, "dot")
    assert {r["model"] for r in result["runs"]} == {"teacher (sage)", "glnn", "nosmog"}
    [entry] = list((tmp_path / "cache" / "cora").glob("node/*/sage-*/seed0"))
    assert json.loads((entry / "meta.json").read_text())["hparams"]["hidden"] == 128
    plain = invoke("config", "show", "-d", "cora", "-t", "sage").output
    assert "128" not in next(line for line in plain.splitlines() if line.startswith("teacher.hidden "))


def test_report_summary_one_row_per_file(tmp_path):
    """`g2m report --summary FILES`: one row per node results file, each model's test mean ± std;
    misuse refused (the protocols' checks: `python -m lab report --checks`, lab/tests)."""
    from pathlib import Path

    docs = Path(__file__).resolve().parents[1] / "docs" / "data"
    cora, citeseer = str(docs / "cora-glnn-transductive-sage.json"), str(docs / "citeseer-glnn-transductive-sage.json")
    done = runner.invoke(app, ["report", "--summary", cora, citeseer])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[2] == "| dataset | teacher | setting | h_adj | teacher | mlp | glnn | lfd | hfd | ffg2m |"
    assert lines[4].startswith("| cora | sage | transductive | 0.76 | 79.62 ± 1.50 | 58.22 ± 2.50 | 79.88 ± 1.52 |")
    assert lines[5].startswith("| citeseer | sage | transductive | 0.66 | 71.43 ± 2.64 |")
    assert len(lines) == 6
    for args, message in [
        (["--summary", cora, cora], "a second file of cora/sage/transductive; merge them first"),
        (["--summary", str(docs / "link" / "cora-tuned.json")], "--summary takes node results files"),
    ]:
        done = runner.invoke(app, ["report", *args])
        assert done.exit_code != 0 and message in str(done.exception), (args, done.output)


def test_run_only_teachers_refused_elsewhere(tmp_path):
    """-t best and -t <gnn>+cs are g2m run's; g2m teacher, distill and config show name the fix."""
    from g2m.cli.main import app

    runner = CliRunner()
    for args, fix in (
        (["teacher", "-d", "csbm", "-t", "sage+cs"], "-t sage"),
        (["distill", "-d", "csbm", "-t", "best"], "-t sage"),
        (["config", "show", "-d", "csbm", "-t", "gcn+cs"], "-t gcn"),
    ):
        said = _said(runner.invoke(app, args))
        assert "is g2m run's" in said and fix in said, args
    said = _said(
        runner.invoke(app, ["run", "-d", "csbm", "-t", "sage", "--choose-from", "gcn", "--out", str(tmp_path)])
    )
    assert "--choose-from goes with -t best" in said
    assert "e.g. --recipe glnn" in _said(
        runner.invoke(app, ["run", "-d", "cora", "-t", "best", "--out", str(tmp_path)])
    )
    assert not (tmp_path / "results.json").exists()


def _said(done) -> str:
    """What a failed command said: its output, or the error the runner caught."""
    assert done.exit_code != 0
    return f"{done.output}{done.exception}"
