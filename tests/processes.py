"""Helpers for tests that start real g2m processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def g2m_process(*args, cwd=None, **kw) -> subprocess.CompletedProcess:
    """``python -m g2m.cli.main ARGS`` in a fresh process, one thread, output captured."""
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
