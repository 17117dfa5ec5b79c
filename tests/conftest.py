"""Fixtures of g2m's tests (those the lab's tests share too, the real datasets among them, are in
the repository's root conftest.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def read_only_dir(tmp_path):
    """A folder nothing can write (a read-only tmpfs mount as root, a 0o555 folder otherwise), with
    ``populate({relative destination: source folder})`` to copy files in first."""
    path = tmp_path / "ro"
    path.mkdir()
    state = {}

    def populate(copies: dict[str, Path]) -> Path:
        for dest, src in copies.items():
            shutil.copytree(src, path / dest)
        if os.geteuid() == 0:
            if subprocess.run(["mount", "-o", "remount,ro", str(path)], capture_output=True).returncode:
                pytest.skip("cannot remount read-only here")
        else:
            for p in [path, *path.rglob("*")]:
                p.chmod(0o555 if p.is_dir() else 0o444)
        return path

    if os.geteuid() == 0:
        if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(path)], capture_output=True).returncode:
            pytest.skip("root without mount: no way to make a folder read-only here")
        state["mounted"] = True
    yield populate
    if state.get("mounted"):
        subprocess.run(["umount", str(path)], capture_output=True)
    else:
        for p in [path, *path.rglob("*")]:
            p.chmod(0o755)
