"""Advisory file locks between g2m processes (``fcntl.flock``): one writer per output folder,
one trainer per cache entry, one process per tuning study.

The kernel drops a ``flock`` when its process ends, however it ends, so a lock left by a
killed process is never stale: the next process takes it, and is told whose it was. The lock
file records its holder (pid, host, command, start time) so that a refused process can name it.
Lock files stay in place (hidden, a few hundred bytes): removing one that another process has
open would let two processes hold "the" lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from g2m.errors import G2MError


def _holder() -> dict[str, object]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": shlex.join(sys.argv),
        "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def describe_holder(lock_file: Path) -> str:
    """``pid N on HOST (COMMAND) since T`` from a lock file, or ``another process``."""
    try:
        info = json.loads(lock_file.read_text() or "{}")
        return f"pid {info['pid']} on {info['host']} ({info['command']}) since {info['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


@contextmanager
def file_lock(
    lock_file: Path,
    *,
    wait: bool = False,
    refused: Callable[[str], str] | None = None,
    on_wait: Callable[[str], None] | None = None,
    on_takeover: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold ``lock_file`` for the ``with`` block.

    Args:
        wait: block until the holder is done (``on_wait(holder)`` is called once first);
            otherwise a held lock raises :class:`~g2m.errors.G2MError` with ``refused(holder)``.
        on_takeover: called with the previous holder when the lock file names a process that
            ended without releasing it (killed): its lock was dropped by the kernel.
    """
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = describe_holder(lock_file)
            if not wait:
                raise G2MError(refused(holder) if refused else f"{lock_file} is held by {holder}") from None
            if on_wait is not None:
                on_wait(holder)
            fcntl.flock(fd, fcntl.LOCK_EX)
        else:
            previous = os.read(fd, 4096)
            if previous.strip() and on_takeover is not None:
                on_takeover(describe_holder(lock_file))
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_holder()).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # a released lock names nobody
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@contextmanager
def output_lock(folder: str | os.PathLike, option: str = "--out") -> Iterator[None]:
    """One g2m process writes ``folder`` at a time: a second is refused with one error naming
    the holder; a lock left by a killed process is taken over with a line saying so. A folder
    the lock created and nothing else wrote to is removed again on the way out (a run refused
    before any result leaves no empty folder behind)."""
    folder = Path(folder)
    created = not folder.exists()
    lock = folder / ".g2m.lock"
    with file_lock(
        lock,
        refused=lambda holder: (
            f"{option} {folder} is being written by {holder}; wait for it to finish or give this run another {option}"
        ),
        on_takeover=lambda holder: _say(
            f"{option} {folder}: taking over the lock of {holder}, which ended without releasing it"
        ),
    ):
        try:
            yield
        finally:
            if created and [p.name for p in folder.iterdir()] == [lock.name]:
                lock.unlink()
                folder.rmdir()


def wait_note(what: str) -> Callable[[str], None]:
    """An ``on_wait`` that prints one line saying what is awaited and who holds it."""

    def note(holder: str) -> None:
        _say(f"waiting for {holder}, which is training {what}; its result will be reused")

    return note
