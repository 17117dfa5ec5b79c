"""Where datasets live on disk."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "G2M_DATA_ROOT"


def default_data_root() -> Path:
    """``$G2M_DATA_ROOT`` if set, else ``$XDG_CACHE_HOME/g2m/datasets`` (``~/.cache/...``)."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "g2m" / "datasets"


def resolve_data_root(root: str | os.PathLike | None = None) -> Path:
    """An explicit ``root`` wins over the environment, which wins over the default."""
    return Path(root).expanduser() if root is not None else default_data_root()
