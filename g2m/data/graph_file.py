"""A user's own graph, from a file: ``g2m run --graph FILE`` (or ``-d FILE``).

Two formats, both read as data, never as code:

* ``.pt``: a :class:`torch_geometric.data.Data` saved with ``torch.save(data, path)``, read with
  ``torch.load(path, weights_only=True)`` and PyG's safe globals. It needs ``x`` ``[N, F]``,
  ``y`` ``[N]`` and an undirected ``edge_index`` ``[2, E]`` (both directions of every edge:
  ``torch_geometric.utils.to_undirected``); ``train_mask`` / ``val_mask`` / ``test_mask``
  (``[N]`` or ``[N, S]`` for ``S`` fixed splits) give the split.
* ``.npz``: ``node_features`` ``[N, F]``, ``node_labels`` ``[N]``, ``edges`` ``[E, 2]`` (each
  undirected edge once or in both directions), and ``train_masks`` / ``val_masks`` /
  ``test_masks`` (``[S, N]``) or ``train_mask`` / ``val_mask`` / ``test_mask`` (``[N]``), the
  layout of Platonov et al.'s filtered heterophilous graphs.

The dataset is named after the file and the first 8 hex digits of its sha256, so that cached
teachers of two different files never collide. Its split is the file's masks (``public``;
split ``seed % S`` with ``S`` fixed splits), its metric accuracy, unless a spec file
(``-d my.toml`` with ``loader = "file"``, ``loader_args = {path = ...}``) says otherwise.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch

from g2m.data.graph import Graph, make_graph
from g2m.data.specs import DatasetSpec
from g2m.errors import DatasetNotFoundError, InvalidGraphError


def file_digest(path: str | os.PathLike, length: int = 8) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:length]


def graph_file_spec(path: str | os.PathLike) -> DatasetSpec:
    """The spec of a graph file: node classification on its own masks, scored by accuracy."""
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"graph file {path} not found")
    return DatasetSpec(
        name=f"{path.stem}-{file_digest(path)}",
        description=f"graph file {path.resolve()}",
        loader="file",
        task="node",
        metric="accuracy",
        split="public",
        offline=True,
        loader_args={"path": str(path.resolve())},
    )


def read_graph_file(path: str | os.PathLike, name: str) -> Graph:
    """The :class:`~g2m.data.graph.Graph` in ``path`` (``.pt`` or ``.npz``, see the module)."""
    path = Path(path)
    if path.suffix == ".npz":
        return _read_npz(path, name)
    if path.suffix != ".pt":
        raise InvalidGraphError(f"{path}: a graph file is a .pt (torch_geometric Data) or a .npz")
    from g2m.data.loaders import pyg_safe_globals

    try:
        with pyg_safe_globals():
            data = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as err:  # noqa: BLE001 (an unreadable or unsafe file, whatever torch raises)
        raise InvalidGraphError(
            f"{path}: not a torch_geometric Data saved with torch.save "
            f"({type(err).__name__}: {str(err).splitlines()[0][:200]})"
        ) from None
    from g2m.api import graph_from_data

    if isinstance(data, dict):
        from torch_geometric.data import Data

        data = Data(**data)
    return graph_from_data(data, name)


def _read_npz(path: Path, name: str) -> Graph:
    try:
        raw = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise InvalidGraphError(f"{path}: not a readable .npz ({err})") from None
    with raw:
        missing = [k for k in ("node_features", "node_labels", "edges") if k not in raw.files]
        if missing:
            raise InvalidGraphError(f"{path}: missing {', '.join(missing)} (found {', '.join(raw.files)})")
        masks = {}
        for key in ("train", "val", "test"):
            if f"{key}_masks" in raw.files:
                masks[key] = torch.from_numpy(raw[f"{key}_masks"]).bool().t().contiguous()
            elif f"{key}_mask" in raw.files:
                masks[key] = torch.from_numpy(raw[f"{key}_mask"]).bool()
        x = torch.from_numpy(raw["node_features"]).float()
        y = torch.from_numpy(raw["node_labels"]).long()
        edges = torch.from_numpy(raw["edges"]).long()
    if edges.dim() != 2 or edges.size(1) != 2:
        raise InvalidGraphError(f"{path}: edges must be [E, 2], got {tuple(edges.shape)}")
    return make_graph(name, x, y, edges.t().contiguous(), masks=masks or None)
