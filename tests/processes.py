"""Helpers for tests that start real g2m processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def g2m_process(*args, cwd=None, env=None, timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    """``python -m g2m.cli.main ARGS`` in a fresh process (stdout and stderr piped, so not a
    terminal), one thread; ``env`` adds to the environment."""
    return subprocess.run(
        [sys.executable, "-m", "g2m.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})},
        cwd=cwd,
        **kw,
    )


def g2m_popen(*args) -> subprocess.Popen:
    """``python -m g2m.cli.main ARGS`` started in the background (Ctrl-C reaches it)."""
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


def wait_for_lock(lock: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Until ``proc`` holds ``lock`` (the file names its holder); fails if it exits first."""
    start = time.time()
    while not (lock.is_file() and lock.read_text().strip()):
        assert proc.poll() is None, proc.communicate()
        assert time.time() - start < timeout, "the first process never took its lock"
        time.sleep(0.2)


def tiny_args(methods: str, out: Path, cache: Path | None = None, seeds: int = 1, *extra: object) -> list[object]:
    """``g2m run`` on the embedded csbm graph, the arguments every process test shares."""
    args: list[object] = ["run", "-d", "csbm", "--methods", methods, "--seeds", str(seeds), "--out", out]
    if cache is not None:
        args += ["--cache-dir", cache]
    return [*args, *extra]


def tiny_run(methods: str, out: Path, cache: Path | None = None, seeds: int = 1, *extra: object):
    """A tiny ``g2m run`` (:func:`tiny_args`) in a fresh process, to its end."""
    return g2m_process(*tiny_args(methods, out, cache, seeds, *extra))


def tiny_run_started(methods: str, out: Path, cache: Path | None = None, seeds: int = 1, *extra: object):
    """A tiny ``g2m run`` (:func:`tiny_args`) started in the background."""
    return g2m_popen(*tiny_args(methods, out, cache, seeds, *extra))
