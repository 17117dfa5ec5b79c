"""Data-parallel training on ``torch.distributed`` (DistributedDataParallel), launched by ``torchrun``.

``torchrun --nproc-per-node N -m g2m.cli.main run ...`` (or ``g2m run --nproc N``, which launches
exactly that) starts N processes; each joins the process group (gloo on the CPU, NCCL on CUDA,
one GPU per local rank) and trains the same student on its share of every mini-batch:

* every rank draws the same global batch from the same CPU generator, and takes part ``rank`` of
  it (``tensor_split``): seeds, and HFD's sampled edges;
* each loss term is summed over the rank's part and divided by the global batch's normaliser
  (labelled nodes, seeds, LFD in-weight, sampled edges), times the world size; DDP averages the
  gradients over the ranks, so each step takes the gradient of the global batch's loss, the one
  a single process takes (equal to rounding: tested to 1e-5 with 2 processes, dropout off);
* validation accuracy is counted on a shard of the validation nodes per rank and summed;
* a mini-batch teacher is trained the same way (each rank samples the neighbourhoods of its part
  of every global batch), its validation and final logits computed by sharded inference
  (:mod:`g2m.teachers.inference`: each rank its range of nodes, one all-gather per layer); rank 0
  holds the cache entry's lock and writes the entry once;
* a full-batch teacher goes through the cache's entry lock alone, so one rank trains a missing
  teacher and the others read it (memory-mapped);
* rank 0 alone writes results, progress and checkpoints;
* batch norms become SyncBatchNorm on CUDA (on the CPU, where PyTorch has none, each rank's batch
  norm uses its part of the batch, and a warning says so).

Without a process group (a plain ``g2m run``), every function here is the single-process no-op.
When a rank dies, torchrun stops the others and exits non-zero; every file g2m writes is written
atomically by rank 0, so nothing is left half-written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

import torch
from torch import Tensor, nn

from g2m.errors import G2MError

T = TypeVar("T")


def is_distributed() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def rank() -> int:
    return torch.distributed.get_rank() if is_distributed() else 0


def world_size() -> int:
    return torch.distributed.get_world_size() if is_distributed() else 1


def is_main() -> bool:
    """Whether this process writes files (rank 0, or the only process)."""
    return rank() == 0


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_from_env(device: torch.device) -> torch.device:
    """Join the process group torchrun describes (``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``,
    ``MASTER_ADDR``/``PORT``): gloo on the CPU, NCCL on CUDA with one GPU per local rank. Returns
    the device this rank trains on. A no-op outside torchrun."""
    if not launched_by_torchrun() or is_distributed():
        return device
    if device.type == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if local >= torch.cuda.device_count():
            raise G2MError(
                f"local rank {local} has no GPU: torch sees {torch.cuda.device_count()}; start at most "
                f"that many processes per machine"
            )
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=timedelta(minutes=30))
    return device


def shutdown() -> None:
    if is_distributed():
        torch.distributed.destroy_process_group()


def part(tensor: Tensor) -> Tensor:
    """This rank's share of a tensor every rank holds whole (contiguous, near-equal parts)."""
    return tensor.tensor_split(world_size())[rank()] if is_distributed() else tensor


def wrap(model: nn.Module) -> nn.Module:
    """``model`` in DistributedDataParallel when a process group is up (itself otherwise).

    On CUDA its batch norms become :class:`torch.nn.SyncBatchNorm` (in place: ``model`` keeps
    them), so that each step normalises by the global batch's statistics, as one process does.
    PyTorch runs SyncBatchNorm on CUDA only: on the CPU each rank normalises by its own part of
    the batch (DDP's default), which a :class:`~g2m.errors.DataParallelWarning` says once."""
    if not is_distributed():
        return model
    params = next(model.parameters())
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()):
        if params.device.type == "cuda":
            synced = nn.SyncBatchNorm.convert_sync_batchnorm(model)
            assert synced is model  # converted in place: the top module is not itself a batch norm
        else:
            import warnings

            from g2m.errors import DataParallelWarning

            warnings.warn(
                "batch norm under data-parallel training on the CPU: each rank normalises by its own part "
                "of the batch (PyTorch's SyncBatchNorm, which uses the global batch as one process does, runs "
                "on CUDA only); the run differs from a single process's. --device cuda syncs them; norm "
                "'layer' (--set norm=layer, --set teacher.norm=layer) has no batch statistics",
                DataParallelWarning,
                stacklevel=2,
            )
    ids = [params.device.index] if params.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def sum_counts(*values: int | float, device: torch.device | None = None) -> list[float]:
    """The sums over the ranks of each value (the values themselves without a process group)."""
    if not is_distributed():
        return [float(v) for v in values]
    backend = torch.distributed.get_backend()
    where = device if backend == "nccl" else torch.device("cpu")
    t = torch.tensor(values, dtype=torch.float64, device=where)
    torch.distributed.all_reduce(t)
    return t.tolist()


def barrier() -> None:
    if is_distributed():
        torch.distributed.barrier()


def main_first(load: Callable[[], T]) -> T:
    """``load()`` on rank 0, then on the other ranks once it is done: a dataset whose first load
    writes files (PyG's ``processed/``) is written by one process only."""
    if not is_distributed():
        return load()
    if is_main():
        value = load()
        barrier()
        return value
    barrier()
    return load()


def _row_ranges(num_rows: int, world: int) -> list[tuple[int, int]]:
    """Every rank's contiguous ``[start, stop)`` of ``num_rows`` rows: the near-equal split of
    :func:`part` (``tensor_split``), the first ``num_rows % world`` ranks one row longer."""
    base, extra = divmod(num_rows, world)
    starts = [r * base + min(r, extra) for r in range(world)]
    return [(start, start + base + (r < extra)) for r, start in enumerate(starts)]


def row_range(num_rows: int) -> tuple[int, int]:
    """This rank's contiguous range ``[start, stop)`` of ``num_rows`` rows (the same near-equal
    split as :func:`part`); all of them without a process group."""
    return _row_ranges(num_rows, world_size())[rank()]


def gather_rows(rows: Tensor, num_rows: int) -> Tensor:
    """Every rank's :func:`row_range` block of a ``[num_rows, ...]`` tensor, concatenated in rank
    order on every rank (``rows`` itself without a process group). The collective moves equal
    blocks (gloo and NCCL both need that), gathered straight into one buffer: when the ranks' rows
    divide evenly the buffer is the result, with no second copy."""
    if not is_distributed():
        return rows
    world = world_size()
    longest = -(-num_rows // world)
    if rows.size(0) < longest:
        rows = torch.cat([rows, rows.new_zeros((longest - rows.size(0), *rows.shape[1:]))])
    out = rows.new_empty((world * longest, *rows.shape[1:]))
    torch.distributed.all_gather(list(out.split(longest)), rows.contiguous())
    if world * longest == num_rows:
        return out
    blocks = _row_ranges(num_rows, world)
    return torch.cat([out[r * longest : r * longest + stop - start] for r, (start, stop) in enumerate(blocks)])
