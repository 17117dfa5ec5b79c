"""The environment of the lab's worker processes."""

from __future__ import annotations

import os
from pathlib import Path

#: the repository root, where ``python -m lab.<worker>`` finds the lab whatever the caller's directory
REPO = Path(__file__).resolve().parents[1]


def worker_env() -> dict[str, str]:
    """This process's environment with the repository root first on ``PYTHONPATH``."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(REPO) + (os.pathsep + path if path else "")}
