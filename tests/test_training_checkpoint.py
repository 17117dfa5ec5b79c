"""An interrupted student resumes from its checkpoint to the same result (real g2m processes)."""

from __future__ import annotations

import json
import signal
import time

import pytest
import torch
from processes import g2m_popen, g2m_process

from g2m.config import TeacherConfig
from g2m.data.graph import make_graph

#: the full tier only (make test-fast leaves these out): g2m processes, end-to-end runs
pytestmark = pytest.mark.slow


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

    from g2m.config import student_config
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
    whole = g2m_process(*common, "--out", tmp_path / "whole", "-q")
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "cut"
    proc = g2m_popen(*common, "--out", out, "-q")
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
    again = g2m_process(*common, "--out", out)
    assert again.returncode == 0, again.stderr
    assert "resuming from its checkpoint at epoch" in again.stderr
    a, b = (json.loads((p / "results.json").read_text()) for p in (tmp_path / "whole", out))
    assert [(r["model"], r["test"], r["val"]) for r in a["runs"]] == [
        (r["model"], r["test"], r["val"]) for r in b["runs"]
    ]
    student = next(r for r in b["runs"] if r["model"] == "glnn")
    assert student["seconds"] > 0 and b["compute_seconds"] == pytest.approx(sum(r["seconds"] for r in b["runs"]))
    assert not (out / "checkpoints").exists()
