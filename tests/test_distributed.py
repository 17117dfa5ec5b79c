"""Data-parallel students on torch.distributed: 2 real processes (torchrun, gloo on the CPU) train
the student one process trains, to 1e-5; the CLI relaunches itself under torchrun with --nproc."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ddp_worker import student
from g2m.training.node_student import distill_node_student

WORKER = Path(__file__).with_name("ddp_worker.py")


def _torchrun(*args, nproc=2, timeout=600):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(WORKER.parent)}
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
                           str(nproc), *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.parametrize("method", ["glnn", "ffg2m", "ffg2m_safe"])
def test_two_processes_train_the_one_process_student(method, tmp_path):
    done = _torchrun(WORKER, tmp_path / "ddp.pt", method, 64)
    assert done.returncode == 0, done.stderr[-3000:]
    ddp = torch.load(tmp_path / "ddp.pt", weights_only=True)
    assert ddp["world"] == 2
    torch.set_num_threads(1)
    graph, split, teacher, cfg = student(method, 64)
    single = distill_node_student(graph, split, teacher, cfg, 0, progress=False)
    torch.testing.assert_close(ddp["logits"], single.logits, atol=1e-5, rtol=0)
    assert [h["val"] for h in ddp["history"]] == [h["val"] for h in single.fit.history]


def test_g2m_run_nproc_writes_one_result(tmp_path):
    out = tmp_path / "r"
    done = subprocess.run([sys.executable, "-m", "g2m.cli.main", "run", "-d", "csbm", "--methods", "glnn,ffg2m",
                           "--seeds", "1", "--epochs", "3", "--batch-size", "512", "--nproc", "2", "--out", str(out),
                           "--cache-dir", str(tmp_path / "cache"), "-q"], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((out / "results.json").read_text())
    assert result["provenance"]["processes"] == 2
    assert {r["model"] for r in result["runs"]} == {"teacher (gcn)", "glnn", "ffg2m"}
    assert not (out / "progress.jsonl").exists() and not (out / ".g2m.lock").read_text().strip()


def test_a_dying_rank_stops_the_run_and_writes_nothing(tmp_path):
    import signal
    import time

    out, cache = tmp_path / "r", tmp_path / "cache"
    proc = subprocess.Popen([sys.executable, "-m", "g2m.cli.main", "run", "-d", "csbm", "--methods", "glnn",
                             "--seeds", "1", "--student-epochs", "3000", "--student-patience", "3000",
                             "--teacher-epochs", "5", "--batch-size", "256", "--nproc", "2", "--out", str(out),
                             "--cache-dir", str(cache), "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    start = time.time()
    ranks: list[int] = []
    while len(ranks) < 2 or not list(cache.rglob("tensors.pt")):  # both ranks up, the teacher cached
        assert proc.poll() is None and time.time() - start < 300, proc.communicate()
        time.sleep(0.5)
        found = subprocess.run(["pgrep", "-f", f"g2m.cli.main run .*--out {out}"], capture_output=True, text=True)
        ranks = [int(p) for p in found.stdout.split() if int(p) != proc.pid]
        ranks = [p for p in ranks if "torch.distributed.run" not in Path(f"/proc/{p}/cmdline").read_text()]
    time.sleep(2)
    os.kill(max(ranks), signal.SIGKILL)  # one rank dies mid-training
    _, err = proc.communicate(timeout=300)
    assert proc.returncode != 0
    assert err.strip().splitlines()[-1].startswith("error: a data-parallel process failed (torchrun exit status")
    assert not (out / "results.json").exists()
    assert not [p for p in cache.rglob("*") if p.name.startswith(".") and p.is_dir() and p.name != ".locks"]
