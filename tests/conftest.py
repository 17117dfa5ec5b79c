"""Shared fixtures. Real datasets come from ../shared/datasets (or $G2M_SHARED_DATASETS),
copied to a temporary directory because PyG writes ``processed/`` beside ``raw/``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


def shared_datasets_dir() -> Path:
    path = Path(os.environ.get("G2M_SHARED_DATASETS", REPO.parent / "shared" / "datasets"))
    if not path.is_dir():
        raise RuntimeError(
            f"real datasets not found at {path}; set G2M_SHARED_DATASETS to the folder "
            "that holds Cora/, CiteSeer/, ... (see README)"
        )
    return path


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A writable copy of the shared real datasets, made once per test session."""
    dst = tmp_path_factory.mktemp("datasets")
    shutil.copytree(shared_datasets_dir(), dst, dirs_exist_ok=True)
    for p in dst.rglob("*"):
        p.chmod(p.stat().st_mode | 0o200)
    return dst


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach the network: name resolution fails as it does offline."""
    import socket

    def refuse(*args, **kwargs):
        raise socket.gaierror(-3, "Temporary failure in name resolution (tests are offline)")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)


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
