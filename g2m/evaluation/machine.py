"""Timing primitives shared by the speed benchmarks: machine description, thread
pinning, device-synchronised timers and percentile summaries."""

from __future__ import annotations

import os
import platform
import resource
import time
from collections.abc import Callable

import torch


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(device: torch.device) -> dict:
    """What produced the numbers: CPU, threads, memory, library versions, GPU."""
    try:
        ram_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        ram_gib = float("nan")
    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "omp_num_threads_env": os.environ.get("OMP_NUM_THREADS"),
        "ram_gib": round(ram_gib, 1),
        "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
    return info


def rss_mib() -> float:
    """Resident set size now, MiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0), so the peak read after the
    measured call excludes set-up transients. False where that is not possible; the
    peak is then the process' lifetime peak, an upper bound."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mib() -> float:
    """Peak resident set size since the last :func:`reset_peak_rss` (``VmHWM``), MiB. Not
    ``ru_maxrss``: Linux carries that across fork and exec, so a child started by a big
    parent would report the parent's peak."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


MIN_REPEATS = 5


def time_calls(
    fn: Callable[[int], object], repeats: int, warmup: int, device: torch.device, budget_s: float | None = None
) -> list[float]:
    """Wall-clock seconds of ``fn(i)`` for ``i`` in ``range(repeats)``, after ``warmup``
    untimed calls ``fn(-1), fn(-2), ...``. With ``budget_s``, timing stops early once
    that much time is spent and at least ``MIN_REPEATS`` calls are in. On CUDA the
    device is synchronised before the clock starts and before it stops, so queued
    kernels are charged to the call that queued them."""
    if repeats < 1 or warmup < 0:
        raise ValueError("repeats must be positive and warmup non-negative")
    for i in range(warmup):
        fn(-1 - i)
    synchronize(device)
    out: list[float] = []
    for i in range(repeats):
        if budget_s is not None and len(out) >= MIN_REPEATS and sum(out) >= budget_s:
            break
        synchronize(device)
        start = time.perf_counter()
        fn(i)
        synchronize(device)
        out.append(time.perf_counter() - start)
    return out


def latency_summary(seconds: list[float], items_per_call: int) -> dict[str, float]:
    """p50/p95/p99 latency in milliseconds and throughput (items per second, from the mean)."""
    t = torch.tensor(seconds, dtype=torch.float64, device="cpu")
    q = torch.quantile(t, torch.tensor([0.5, 0.95, 0.99], dtype=torch.float64, device="cpu"))
    return {
        "p50_ms": float(q[0]) * 1e3,
        "p95_ms": float(q[1]) * 1e3,
        "p99_ms": float(q[2]) * 1e3,
        "mean_ms": float(t.mean()) * 1e3,
        "items_per_s": items_per_call / float(t.mean()),
        "repeats": len(seconds),
    }
