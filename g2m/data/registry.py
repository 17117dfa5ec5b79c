"""Dataset registry: names -> specs -> loaded :class:`~g2m.data.graph.Graph`."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from g2m.data.root import resolve_data_root
from g2m.data.specs import DatasetSpec, get_spec, load_specs, missing_files
from g2m.errors import DatasetUnavailableError

if TYPE_CHECKING:
    from g2m.data.graph import Graph


def list_datasets() -> list[DatasetSpec]:
    return list(load_specs().values())


def dataset_location(spec: DatasetSpec, root: str | os.PathLike | None = None) -> str:
    """Human-readable answer to "where is this dataset found?"."""
    if spec.loader == "csbm":
        return "generated in memory"
    root = resolve_data_root(root)
    missing = missing_files(spec, root)
    if not missing:
        return f"on disk: {root}"
    if spec.offline:
        return f"missing under {root} (no download source)"
    return f"downloads to {root} on first use"


def load_dataset(name: str, root: str | os.PathLike | None = None, **overrides: Any) -> Graph:
    """Load a registered dataset by name.

    ``overrides`` only apply to the synthetic ``csbm`` generator (``num_nodes``,
    ``num_classes``, ``avg_degree``, ``homophily``, ``feature_signal``,
    ``num_features``, ``seed``).
    """
    from g2m.data.loaders import LOADERS, load_csbm

    spec = get_spec(name)
    path = Path(resolve_data_root(root))
    if spec.loader == "csbm":
        return load_csbm(spec, path, **overrides)
    if overrides:
        raise TypeError(f"dataset {name!r} takes no generator parameters, got {sorted(overrides)}")
    try:
        return LOADERS[spec.loader](spec, path)
    except OSError as err:
        if err.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise
        raise DatasetUnavailableError(
            f"dataset {name!r}: cannot write under the data root {path} ({err.strerror}: {err.filename}); PyG "
            f"writes a processed/ folder beside raw/ on first load. Copy the data root to a writable folder "
            f"(cp -r {path} /tmp/g2m-data) and pass --data-root /tmp/g2m-data (or set G2M_DATA_ROOT)"
        ) from None
