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
