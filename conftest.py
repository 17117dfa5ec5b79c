"""Fixtures of every test, g2m's (tests/) and the lab's (lab/tests/). Real datasets come from
../shared/datasets (or $G2M_SHARED_DATASETS), copied to a temporary directory because PyG writes
``processed/`` beside ``raw/``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parent


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
