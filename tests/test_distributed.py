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

#: the full tier only (make test-fast leaves these out): several processes, end-to-end runs
pytestmark = pytest.mark.slow

WORKER = Path(__file__).with_name("ddp_worker.py")


def _torchrun(*args, nproc=2, timeout=600):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(WORKER.parent)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node",
            str(nproc),
            *map(str, args),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


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


TEACHERS = ["gcn", "sage", "gat", "appnp"]


def test_two_processes_train_the_one_process_teacher(tmp_path):
    """Data-parallel mini-batch teachers (every rank its part of each global batch) equal one
    process's, and sharded inference equals the full-graph forward, on every rank count.

    gcn and appnp normalise by degrees counted inside each sampled subgraph, which depend on
    which seeds share a batch, so their training is compared on sharded inference only."""
    from ddp_teacher_worker import teacher

    from g2m.training.node_teacher import train_node_teacher

    cache = tmp_path / "cache"
    done = _torchrun(WORKER.with_name("ddp_teacher_worker.py"), tmp_path / "t.pt", ",".join(TEACHERS), cache)
    assert done.returncode == 0, done.stderr[-3000:]
    ddp = torch.load(tmp_path / "t.pt", weights_only=True)
    assert ddp["world"] == 2
    # the cache entry the two ranks wrote, each its own rows (no gather), read back whole
    (meta_file,) = cache.rglob("meta.json")
    meta = json.loads(meta_file.read_text())
    assert meta["layout"] == "rows" and meta["processes"] == 2 and meta["tensors"]["logits"] == [401, 4]
    assert sorted(p.name for p in meta_file.parent.iterdir()) == ["hidden.bin", "logits.bin", "meta.json"]
    torch.testing.assert_close(ddp["cached"]["logits"], ddp["sage"]["logits"], atol=1e-5, rtol=0)
    torch.testing.assert_close(ddp["cached"]["hidden"], ddp["sage"]["hidden"], atol=1e-5, rtol=0)
    assert ddp["cached"]["scores"]["test"] == pytest.approx(meta["scores"]["test"])
    torch.set_num_threads(1)
    for kind in TEACHERS:
        if kind in ("sage", "gat"):
            graph, split, cfg = teacher(kind)
            single = train_node_teacher(graph, split, cfg, 0, progress=False, device="cpu")
            torch.testing.assert_close(ddp[kind]["logits"], single.logits, atol=1e-5, rtol=0, msg=kind)
            torch.testing.assert_close(ddp[kind]["hidden"], single.hidden, atol=1e-5, rtol=0, msg=kind)
            assert [h["val"] for h in ddp[kind]["history"]] == [h["val"] for h in single.fit.history], kind
        for got, want in zip(ddp[kind]["sharded"], ddp[kind]["whole"]):
            torch.testing.assert_close(got, want, atol=1e-5, rtol=0, msg=kind)


def test_g2m_run_nproc_writes_one_result(tmp_path):
    out = tmp_path / "r"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "g2m.cli.main",
            "run",
            "-d",
            "csbm",
            "--methods",
            "glnn,ffg2m",
            "--seeds",
            "1",
            "--epochs",
            "3",
            "--batch-size",
            "512",
            "--nproc",
            "2",
            "--out",
            str(out),
            "--cache-dir",
            str(tmp_path / "cache"),
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((out / "results.json").read_text())
    assert result["provenance"]["processes"] == 2
    assert {r["model"] for r in result["runs"]} == {"teacher (gcn)", "glnn", "ffg2m"}
    assert not (out / "progress.jsonl").exists() and not (out / ".g2m.lock").read_text().strip()


def test_g2m_run_nproc_trains_a_minibatch_teacher_together(tmp_path):
    """A mini-batch teacher under --nproc 2: both ranks train it, rank 0 writes one cache entry,
    and a second run reads it back on every rank instead of training again."""
    preset = tmp_path / "p.toml"
    preset.write_text("[hparams.teacher]\nbatch_size = 128\nfanouts = [5, 5]\nepochs = 3\npatience = 3\n")
    args = [
        sys.executable,
        "-m",
        "g2m.cli.main",
        "run",
        "-d",
        "csbm",
        "-t",
        "sage",
        "--methods",
        "glnn",
        "--seeds",
        "1",
        "--student-epochs",
        "2",
        "--nproc",
        "2",
        "--preset",
        str(preset),
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.run([*args, "--out", str(tmp_path / "a")], capture_output=True, text=True, timeout=600, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    entries = list((tmp_path / "cache").rglob("meta.json"))
    assert len(entries) == 1
    meta = json.loads(entries[0].read_text())
    assert meta["hparams"]["batch_size"] == 128 and meta["epochs_run"] == 3
    second = subprocess.run([*args, "--out", str(tmp_path / "b")], capture_output=True, text=True, timeout=600, env=env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "reusing" in second.stderr.lower() and "teacher sage seed 0" not in second.stderr
    runs = [json.loads((tmp_path / d / "results.json").read_text())["runs"] for d in "ab"]
    assert runs[0][0]["test"] == runs[1][0]["test"]  # the teacher's row, trained then read


def test_a_dying_rank_stops_the_run_and_writes_nothing(tmp_path):
    import signal
    import time

    out, cache = tmp_path / "r", tmp_path / "cache"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "g2m.cli.main",
            "run",
            "-d",
            "csbm",
            "--methods",
            "glnn",
            "--seeds",
            "1",
            "--student-epochs",
            "3000",
            "--student-patience",
            "3000",
            "--teacher-epochs",
            "5",
            "--batch-size",
            "256",
            "--nproc",
            "2",
            "--out",
            str(out),
            "--cache-dir",
            str(cache),
            "-q",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
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


@pytest.fixture
def one_process_group(tmp_path):
    """A process group of one rank (gloo), as torchrun's would be, torn down after the test."""
    import torch.distributed as tdist

    store = tdist.FileStore(str(tmp_path / "store"), 1)
    tdist.init_process_group("gloo", store=store, rank=0, world_size=1)
    yield
    tdist.destroy_process_group()


def test_batch_norm_on_the_cpu_under_data_parallel_says_it_is_per_rank(one_process_group):
    import warnings

    from g2m import distributed as dist
    from g2m.errors import DataParallelWarning
    from g2m.students.mlp import MLP

    assert dist.is_distributed()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning without batch norm
        wrapped = dist.wrap(MLP(8, 3, hidden=16, norm="layer"))
    assert isinstance(wrapped, torch.nn.parallel.DistributedDataParallel)
    model = MLP(8, 3, hidden=16, norm="batch")
    with pytest.warns(DataParallelWarning, match="each rank normalises by its own part of the batch"):
        dist.wrap(model)
    assert not any(isinstance(m, torch.nn.SyncBatchNorm) for m in model.modules())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="SyncBatchNorm runs on CUDA only")
def test_batch_norm_becomes_sync_batch_norm_on_cuda(tmp_path):
    import torch.distributed as tdist

    from g2m import distributed as dist
    from g2m.students.mlp import MLP

    tdist.init_process_group("nccl", store=tdist.FileStore(str(tmp_path / "s"), 1), rank=0, world_size=1)
    try:
        model = MLP(8, 3, hidden=16, norm="batch").cuda()
        dist.wrap(model)
        kinds = {type(m) for m in model.modules()}
        assert torch.nn.SyncBatchNorm in kinds and torch.nn.BatchNorm1d not in kinds
    finally:
        tdist.destroy_process_group()


def test_an_entry_written_by_rows_is_read_whole_and_checked(one_process_group, tmp_path):
    """save_row_shards in a group of one: the rank's rows are every row; the entry reads back
    memory-mapped, and a changed byte fails its content hash."""
    from g2m.cache import CacheKey, TeacherCache
    from g2m.errors import CacheCorruptError

    cache = TeacherCache(tmp_path / "c")
    key = CacheKey("d", "node", "s", "sage-x", 0)
    logits, hidden = torch.randn(7, 3), torch.randn(7, 5)
    path = cache.save_row_shards(key, {"logits": logits, "hidden": hidden}, 7, {"scores": {"val": 0.5}})
    assert path == cache.path(key) and not [p for p in path.parent.iterdir() if p.name.startswith(".")]
    record = cache.load(key)
    torch.testing.assert_close(record.tensors["logits"], logits, atol=0, rtol=0)
    torch.testing.assert_close(record.tensors["hidden"], hidden, atol=0, rtol=0)
    assert record.meta["scores"] == {"val": 0.5}
    raw = bytearray((path / "logits.bin").read_bytes())
    raw[0] ^= 0xFF
    (path / "logits.bin").write_bytes(bytes(raw))
    with pytest.raises(CacheCorruptError, match="fails its content hash"):
        cache.load(key)
    with pytest.raises(ValueError, match="this rank holds 6 rows, its range is"):
        cache.save_row_shards(key, {"logits": logits[:6]}, 7, {})
