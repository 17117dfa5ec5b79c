"""Nothing lost, nothing half-done: bad data, bad options, read-only folders and concurrent runs
(several tests start real g2m processes)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from g2m.config import LinkStudentConfig, LinkTeacherConfig, StudentConfig, TeacherConfig
from g2m.data.graph import make_graph
from g2m.errors import DataWarning, InvalidGraphError

#: the full tier only (make test-fast leaves these out): several processes, end-to-end runs
pytestmark = pytest.mark.slow

EDGES = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])


def _graph(**kw):
    args = dict(
        x=torch.randn(5, 3),
        y=torch.tensor([0, 1, 2, 0, 1]),
        edge_index=torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]]),
        num_classes=3,
        masks=None,
    )
    args.update(kw)
    return make_graph("g", args["x"], args["y"], args["edge_index"], args["num_classes"], args["masks"])


# ---------- bad data ----------


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_features_are_named(value):
    x = torch.randn(5, 3)
    x[3, 1] = value
    x[4, 0] = value
    with pytest.raises(InvalidGraphError, match=r"^g: 2 nodes with NaN or inf features \(first: node 3\)"):
        _graph(x=x)


def test_labels_out_of_range_and_unlabelled_nodes_in_masks():
    with pytest.raises(InvalidGraphError, match=r"1 node labelled >= num_classes = 3 \(first: node 2, label 7\)"):
        _graph(y=torch.tensor([0, 1, 7, 0, 1]))
    y = torch.tensor([0, -1, 2, -1, 1])
    _graph(y=y)  # unlabelled nodes are fine outside the masks
    train = torch.tensor([True, True, False, True, False])
    with pytest.raises(
        InvalidGraphError,
        match=r"2 nodes without a label \(label < 0\) in the train mask "
        r"\(first: node 1\)",
    ):
        _graph(y=y, masks={"train": train})
    fixed = torch.zeros(5, 3, dtype=torch.bool)
    fixed[3, 2] = True  # the third of three fixed splits
    with pytest.raises(InvalidGraphError, match=r"1 node without a label .* in the test mask \(first: node 3\)"):
        _graph(y=y, masks={"test": fixed})
    with pytest.raises(InvalidGraphError, match="the val mask has 4 rows for 5 nodes"):
        _graph(masks={"val": torch.ones(4, dtype=torch.bool)})


def test_isolated_nodes_are_a_warning():
    with pytest.warns(DataWarning, match=r"g: 1 node isolated \(first: node 4\)"):
        _graph(edge_index=EDGES)


# ---------- bad options, refused when the config is built ----------


@pytest.mark.parametrize(
    "cls,field,value,message",
    [
        (StudentConfig, "lam", 1.5, r"lam must be in \[0, 1\], got 1.5"),
        (StudentConfig, "hidden", 0, r"hidden must be in \[1, inf\), got 0"),
        (StudentConfig, "tau", -1.0, r"tau must be in \(0, inf\)"),
        (StudentConfig, "chunk_size", -5, r"chunk_size must be in \[1, inf\)"),
        (StudentConfig, "dropout", 1.0, r"dropout must be in \[0, 1\)"),
        (StudentConfig, "batch_size", 0, r"batch_size must be in \[1, inf\)"),
        (StudentConfig, "norm", "group", "norm must be one of none, batch, layer"),
        (StudentConfig, "method", "glnnn", "unknown node method 'glnnn'"),
        (StudentConfig, "epochs", "10", r"StudentConfig.epochs must be a number"),
        (TeacherConfig, "model", "gin", "model must be one of gcn, sage, gat, appnp"),
        (TeacherConfig, "fanouts", (15, 0), "fanouts must be positive"),
        (TeacherConfig, "lr", 0.0, r"lr must be in \(0, inf\)"),
        (LinkTeacherConfig, "scorer", "cosine", "scorer must be one of dot, mlp"),
        (LinkStudentConfig, "walks", 0, r"walks must be in \[1, inf\)"),
        (LinkStudentConfig, "w_rank", -1.0, r"w_rank must be in \[0, inf\)"),
        (LinkStudentConfig, "method", "llq", "method must be one of"),
    ],
)
def test_config_values_are_checked_when_built(cls, field, value, message):
    with pytest.raises(ValueError, match=message):
        cls(**{field: value})


def _g2m(*args, cwd=None, **kw):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "g2m.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=cwd,
        **kw,
    )


@pytest.mark.parametrize(
    "option", [["--lam", "1.5"], ["--student-hidden", "0"], ["--tau", "-1"], ["--chunk-size", "-5"], ["--methods", ""]]
)
def test_bad_options_stop_before_any_teacher_is_trained(option, tmp_path):
    from typer.testing import CliRunner

    from g2m.cli.main import app

    res = CliRunner().invoke(
        app,
        [
            "run",
            "-d",
            "csbm",
            "--seeds",
            "1",
            "--out",
            str(tmp_path / "r"),
            "--cache-dir",
            str(tmp_path / "cache"),
            *option,
        ],
    )
    assert res.exit_code != 0
    assert not (tmp_path / "cache").exists() and not (tmp_path / "r" / "results.json").exists()


# ---------- read-only folders ----------


@pytest.fixture
def read_only_dir(tmp_path):
    """A folder nothing can write (a read-only tmpfs mount as root, a 0o555 folder otherwise), with
    ``populate({relative destination: source folder})`` to copy files in first."""
    path = tmp_path / "ro"
    path.mkdir()
    state = {}

    def populate(copies: dict[str, Path]) -> Path:
        for dest, src in copies.items():
            shutil.copytree(src, path / dest)
        if os.geteuid() == 0:
            if subprocess.run(["mount", "-o", "remount,ro", str(path)], capture_output=True).returncode:
                pytest.skip("cannot remount read-only here")
        else:
            for p in [path, *path.rglob("*")]:
                p.chmod(0o555 if p.is_dir() else 0o444)
        return path

    if os.geteuid() == 0:
        if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(path)], capture_output=True).returncode:
            pytest.skip("root without mount: no way to make a folder read-only here")
        state["mounted"] = True
    yield populate
    if state.get("mounted"):
        subprocess.run(["umount", str(path)], capture_output=True)
    else:
        for p in [path, *path.rglob("*")]:
            p.chmod(0o755)


def test_read_only_cache_is_read_and_never_written(read_only_dir, tmp_path):
    cache = tmp_path / "cache"
    first = _g2m(
        "run",
        "-d",
        "csbm",
        "--methods",
        "mlp",
        "--seeds",
        "1",
        "--epochs",
        "5",
        "--out",
        tmp_path / "a",
        "--cache-dir",
        cache,
        "-q",
    )
    assert first.returncode == 0, first.stderr
    ro = read_only_dir({"cache": cache})
    res = _g2m(
        "run",
        "-d",
        "csbm",
        "--methods",
        "glnn",
        "--seeds",
        "2",
        "--epochs",
        "5",
        "--out",
        tmp_path / "b",
        "--cache-dir",
        ro / "cache",
    )
    assert res.returncode == 0, res.stderr
    assert "cannot be written: cached teachers are read from it, new ones are kept in memory" in res.stderr
    assert "reusing the cached gcn" in res.stderr  # seed 0 from the cache; seed 1 trained and kept in memory
    runs = json.loads((tmp_path / "b" / "results.json").read_text())["runs"]
    assert [r["cached"] for r in runs if r["model"].startswith("teacher")] == [True, False]
    refused = _g2m("teacher", "-d", "csbm", "--cache-dir", ro / "cache")
    assert refused.returncode == 2 and refused.stderr.strip().splitlines()[-1].startswith(
        f"error: teacher cache {ro / 'cache'} cannot be written"
    )


def test_read_only_data_root_says_where_to_copy(read_only_dir, data_root):
    ro = read_only_dir({"Cora/raw": data_root / "Cora" / "raw"})  # raw files only: PyG must write processed/
    res = _g2m("teacher", "-d", "cora", "--data-root", ro, "--epochs", "1")
    assert res.returncode == 2
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: dataset 'cora': cannot write under the data root {ro}")
    assert "--data-root /tmp/g2m-data" in last and "Traceback" not in res.stderr


# ---------- concurrent runs ----------


def _wait_for_lock(lock: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    start = time.time()
    while not (lock.is_file() and lock.read_text().strip()):
        assert proc.poll() is None, proc.communicate()
        assert time.time() - start < timeout, "the first process never took its lock"
        time.sleep(0.2)


def _popen(*args):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # Ctrl-C must reach the child even when this test runs in the background (which ignores SIGINT)
    return subprocess.Popen(
        [sys.executable, "-m", "g2m.cli.main", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def test_two_runs_on_one_out_lose_nothing(tmp_path):
    out, cache = tmp_path / "R", tmp_path / "cache"
    first = _popen(
        "run",
        "-d",
        "csbm",
        "--methods",
        "mlp,glnn",
        "--seeds",
        "2",
        "--out",
        out,
        "--cache-dir",
        cache,
        "--student-epochs",
        "60",
        "-q",
    )
    _wait_for_lock(out / ".g2m.lock", first)
    second = _g2m("run", "-d", "csbm", "--methods", "ffg2m", "--seeds", "2", "--out", out, "--cache-dir", cache, "-q")
    assert second.returncode == 2
    assert second.stderr.strip().startswith(f"error: --out {out} is being written by pid {first.pid} on ")
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    models = {r["model"] for r in json.loads((out / "results.json").read_text())["runs"]}
    assert models == {"teacher (gcn)", "mlp", "glnn"}  # the first run's results, whole


def test_a_killed_writers_lock_is_taken_over(tmp_path):
    out = tmp_path / "R"
    first = _popen(
        "run", "-d", "csbm", "--methods", "mlp", "--seeds", "1", "--out", out, "--cache-dir", tmp_path / "cache", "-q"
    )
    _wait_for_lock(out / ".g2m.lock", first)
    first.send_signal(signal.SIGKILL)
    first.wait()
    res = _g2m(
        "run",
        "-d",
        "csbm",
        "--methods",
        "mlp",
        "--seeds",
        "1",
        "--epochs",
        "3",
        "--out",
        out,
        "--cache-dir",
        tmp_path / "cache",
        "-q",
    )
    assert res.returncode == 0, res.stderr
    assert f"--out {out}: taking over the lock of pid {first.pid} on " in res.stderr
    assert (out / "results.json").is_file()


def test_one_teacher_is_trained_once_by_two_processes(tmp_path):
    cache = tmp_path / "cache"
    # a teacher long enough (600 epochs, no early stop) for the second process to start while it trains
    first = _popen(
        "run",
        "-d",
        "csbm",
        "--methods",
        "mlp",
        "--seeds",
        "1",
        "--out",
        tmp_path / "a",
        "--cache-dir",
        cache,
        "--student-epochs",
        "5",
        "--teacher-epochs",
        "600",
        "--teacher-patience",
        "600",
    )
    start = time.time()
    while not any(p.read_text().strip() for p in cache.glob(".locks/*.lock")):  # the first is training it
        assert first.poll() is None and time.time() - start < 120
        time.sleep(0.2)
    second = _g2m(
        "run",
        "-d",
        "csbm",
        "--methods",
        "glnn",
        "--seeds",
        "1",
        "--out",
        tmp_path / "b",
        "--cache-dir",
        cache,
        "--student-epochs",
        "5",
        "--teacher-epochs",
        "600",
        "--teacher-patience",
        "600",
    )
    first.communicate(timeout=600)
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert f"waiting for pid {first.pid} on " in second.stderr and "reusing the cached gcn" in second.stderr
    runs = json.loads((tmp_path / "b" / "results.json").read_text())["runs"]
    assert runs[0]["cached"] is True


# ---------- malformed results files ----------


@pytest.fixture(scope="module")
def good_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("good")
    res = _g2m(
        "run",
        "-d",
        "csbm",
        "--methods",
        "mlp,ffg2m",
        "--seeds",
        "2",
        "--epochs",
        "5",
        "--out",
        out,
        "--cache-dir",
        out / "cache",
        "-q",
    )
    assert res.returncode == 0, res.stderr
    return json.loads((out / "results.json").read_text())


def _set(path, value):
    def damage(r):
        target = r
        for key in path[:-1]:
            target = target[key]
        if value is _DROP:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return r

    return damage


_DROP = object()


@pytest.mark.parametrize(
    "damage,message",
    [
        (_set(["runs", 1, "test"], None), "runs[1].test is null"),
        (lambda r: [r], "the top level is a JSON list, not an object"),
        (_set(["runs"], _DROP), "runs is missing"),
        (_set(["runs", 0, "seed"], _DROP), "runs[0].seed is missing or not an integer"),
        (_set(["experiment"], []), "experiment must be an object naming its dataset"),
    ],
)
@pytest.mark.parametrize("command", ["compare", "leaderboard", "merge"])
def test_commands_reading_results_name_the_file_and_field(good_result, damage, message, command, tmp_path):
    bad = tmp_path / "results.json"
    bad.write_text(json.dumps(damage(json.loads(json.dumps(good_result)))))
    args = {
        "compare": ["compare", str(bad)],
        "leaderboard": ["leaderboard", str(bad), "--min-runs", "1"],
        "merge": ["merge", str(bad), str(bad), "--out", str(tmp_path / "m")],
    }[command]
    res = subprocess.run([sys.executable, "-m", "g2m.cli.main", *args], capture_output=True, text=True, timeout=120)
    assert (
        res.returncode == 2
        and res.stderr.strip() == f"error: {bad}: {message}; not a results.json written by g2m run / g2m merge"
    )


# ---------- resuming inside a student ----------


class _Stop(KeyboardInterrupt):
    pass


def _interrupt_at(epoch: int):
    def on_epoch(e, val):
        if e == epoch:
            raise _Stop

    return on_epoch


@pytest.mark.parametrize(
    "method,extra",
    [
        ("nosmog", {}),
        ("krd", {}),
        ("ffg2m_safe", {}),
        ("glnn", {"batch_size": 64}),
        ("glnn+position", {"dropout": 0.5}),
    ],
)
def test_an_interrupted_student_resumes_to_the_same_result(method, extra, tmp_path):
    from dataclasses import replace

    from g2m.config import TeacherConfig, student_config
    from g2m.data.csbm import csbm_tensors
    from g2m.data.splits import make_node_split
    from g2m.training.checkpoint import Checkpoint
    from g2m.training.node_student import distill_node_student
    from g2m.training.node_teacher import train_node_teacher

    x, y, e = csbm_tensors(num_nodes=200, num_classes=3, avg_degree=5, num_features=16, seed=2)
    graph = make_graph("c", x, y, e)
    split = make_node_split(graph, "random", "transductive", 0, train_per_class=10, val_per_class=10)
    teacher = train_node_teacher(graph, split, TeacherConfig(hidden=16, epochs=20), 0, progress=False)
    cfg = replace(
        student_config(None, method, "gcn"),
        hidden=16,
        epochs=12,
        patience=12,
        krd_start=2,
        position_dim=8,
        position_walk_length=6,
        position_window=2,
        **extra,
    )

    def train(on_epoch=None, checkpoint=None):
        return distill_node_student(
            graph,
            split,
            teacher.knowledge(),
            cfg,
            3,
            progress=False,
            on_epoch=on_epoch,
            checkpoint=checkpoint,
        )

    whole = train()
    ckpt = Checkpoint(tmp_path / "s.pt", "tag", every_seconds=0)
    with pytest.raises(_Stop):
        train(_interrupt_at(6), ckpt)  # stopped inside epoch 6's validation: epochs 0-5 are checkpointed
    saved = list(tmp_path.glob("*.pt"))
    assert saved, "no checkpoint was written"
    resumed = train(checkpoint=ckpt)
    assert resumed.fit.resumed_from is not None and resumed.fit.resumed_from > 0
    torch.testing.assert_close(resumed.logits, whole.logits, atol=1e-6, rtol=0)
    assert resumed.fit.best_epoch == whole.fit.best_epoch and len(resumed.fit.history) == len(whole.fit.history)
    assert not list(tmp_path.glob("*.pt"))  # a finished student leaves no checkpoint
    other = Checkpoint(tmp_path / "s.pt", "another-config", every_seconds=0)
    with pytest.raises(_Stop):
        train(_interrupt_at(3), ckpt)
    assert train(checkpoint=other).fit.resumed_from is None  # another configuration's state is never loaded


def test_interrupted_run_resumes_inside_the_student(tmp_path):
    """A real g2m run, interrupted with Ctrl-C (SIGINT) inside a student, resumed by the same
    command: the same table as an uninterrupted run, and compute time over both processes."""
    cache = tmp_path / "cache"
    common = [
        "run",
        "-d",
        "csbm",
        "--methods",
        "glnn",
        "--seeds",
        "1",
        "--cache-dir",
        cache,
        "--student-epochs",
        "2000",
        "--student-patience",
        "2000",
        "--teacher-epochs",
        "20",
        "--checkpoint-every",
        "0",
    ]
    whole = _g2m(*common, "--out", tmp_path / "whole", "-q")
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "cut"
    proc = _popen(*common, "--out", out, "-q")
    start = time.time()
    while not list((out / "checkpoints").glob("*.pt")):
        assert proc.poll() is None and time.time() - start < 300, proc.communicate()
        time.sleep(0.1)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    last = err.strip().splitlines()[-1]
    assert last.startswith(
        f"interrupted: 0 finished student(s) kept in {out / 'progress.jsonl'}; checkpoints of "
        f"glnn-seed0 in {out / 'checkpoints'}; run the same command again to resume"
    ), last
    again = _g2m(*common, "--out", out)
    assert again.returncode == 0, again.stderr
    assert "resuming from its checkpoint at epoch" in again.stderr
    a, b = (json.loads((p / "results.json").read_text()) for p in (tmp_path / "whole", out))
    assert [(r["model"], r["test"], r["val"]) for r in a["runs"]] == [
        (r["model"], r["test"], r["val"]) for r in b["runs"]
    ]
    student = next(r for r in b["runs"] if r["model"] == "glnn")
    assert student["seconds"] > 0 and b["compute_seconds"] == pytest.approx(sum(r["seconds"] for r in b["runs"]))
    assert not (out / "checkpoints").exists()


def test_no_cache_never_touches_the_cache(tmp_path):
    res = _g2m(
        "run",
        "-d",
        "csbm",
        "--methods",
        "mlp",
        "--seeds",
        "1",
        "--epochs",
        "2",
        "--no-cache",
        "--out",
        tmp_path / "r",
        "--cache-dir",
        tmp_path / "cache",
        "-q",
    )
    assert res.returncode == 0, res.stderr
    assert not (tmp_path / "cache").exists() and "reusing" not in res.stderr
