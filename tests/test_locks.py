"""Concurrent runs lose nothing: one process trains a teacher while another waits on its lock; a
killed writer's lock is taken over (real g2m processes)."""

from __future__ import annotations

import json
import signal
import time

import pytest
from processes import tiny_run, tiny_run_started, wait_for_lock

#: the full tier only (make test-fast leaves these out): g2m processes, end-to-end runs
pytestmark = pytest.mark.slow


def test_two_runs_on_one_out_lose_nothing(tmp_path):
    out, cache = tmp_path / "R", tmp_path / "cache"
    first = tiny_run_started("mlp,glnn", out, cache, 2, "--student-epochs", "60", "-q")
    wait_for_lock(out / ".g2m.lock", first)
    second = tiny_run("ffg2m", out, cache, 2, "-q")
    assert second.returncode == 2
    assert second.stderr.strip().startswith(f"error: --out {out} is being written by pid {first.pid} on ")
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    models = {r["model"] for r in json.loads((out / "results.json").read_text())["runs"]}
    assert models == {"teacher (gcn)", "mlp", "glnn"}  # the first run's results, whole


def test_a_killed_writers_lock_is_taken_over(tmp_path):
    out = tmp_path / "R"
    first = tiny_run_started("mlp", out, tmp_path / "cache", 1, "-q")
    wait_for_lock(out / ".g2m.lock", first)
    first.send_signal(signal.SIGKILL)
    first.wait()
    res = tiny_run("mlp", out, tmp_path / "cache", 1, "--epochs", "3", "-q")
    assert res.returncode == 0, res.stderr
    assert f"--out {out}: taking over the lock of pid {first.pid} on " in res.stderr
    assert (out / "results.json").is_file()


def test_one_teacher_is_trained_once_by_two_processes(tmp_path):
    cache = tmp_path / "cache"
    # a teacher long enough (600 epochs, no early stop) for the second process to start while it trains
    long_teacher = ("--student-epochs", "5", "--teacher-epochs", "600", "--teacher-patience", "600")
    first = tiny_run_started("mlp", tmp_path / "a", cache, 1, *long_teacher)
    start = time.time()
    while not any(p.read_text().strip() for p in cache.glob(".locks/*.lock")):  # the first is training it
        assert first.poll() is None and time.time() - start < 120
        time.sleep(0.2)
    second = tiny_run("glnn", tmp_path / "b", cache, 1, *long_teacher)
    first.communicate(timeout=600)
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert f"waiting for pid {first.pid} on " in second.stderr and "reusing the cached gcn" in second.stderr
    runs = json.loads((tmp_path / "b" / "results.json").read_text())["runs"]
    assert runs[0]["cached"] is True
