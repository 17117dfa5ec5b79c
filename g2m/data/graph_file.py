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
    from g2m.data.graph import graph_from_data

    if isinstance(data, dict):
        from torch_geometric.data import Data

        data = Data(**data)
    return graph_from_data(data, name)


def _integral(arr: np.ndarray, path: Path, key: str, what: str) -> torch.Tensor:
    """``arr`` as a long tensor: integers as they are, floats only when every value is whole."""
    if arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer):
        return torch.from_numpy(arr.astype(np.int64))
    if np.issubdtype(arr.dtype, np.floating):
        finite = np.isfinite(arr)
        whole = finite & (np.floor(arr) == arr)
        if not whole.all():
            bad = float(arr[~whole].flat[0])
            raise InvalidGraphError(f"{path}: {key} holds {bad:g}, not {what}: give whole numbers")
        return torch.from_numpy(arr.astype(np.int64))
    raise InvalidGraphError(f"{path}: {key} has dtype {arr.dtype}; it must hold {what} (integers)")


def _read_npz(path: Path, name: str) -> Graph:
    try:
        raw = np.load(path, allow_pickle=False)
        if not isinstance(raw, np.lib.npyio.NpzFile):
            raise ValueError("a single array, not an archive")
    except Exception as err:  # noqa: BLE001 (whatever numpy raises on a file that is no archive)
        reason = "pickled objects, which g2m never loads" if "pickle" in str(err) else type(err).__name__
        raise InvalidGraphError(
            f"{path}: not a readable .npz archive of arrays ({reason}); write one with numpy.savez"
        ) from None
    try:
        with raw:
            missing = [k for k in ("node_features", "node_labels", "edges") if k not in raw.files]
            if missing:
                pyg = {"x", "edge_index"} <= set(raw.files)
                hint = (
                    ": these are PyG's names; save the Data itself (torch.save(data, 'graph.pt')), or name the arrays "
                    "node_features [N, F], node_labels [N] and edges [E, 2]"
                    if pyg
                    else ""
                )
                raise InvalidGraphError(f"{path}: missing {', '.join(missing)} (found {', '.join(raw.files)}){hint}")
            arrays = {k: raw[k] for k in raw.files}
    except InvalidGraphError:
        raise
    except Exception as err:  # noqa: BLE001 (a truncated or corrupt member: zipfile, zlib or numpy errors)
        raise InvalidGraphError(f"{path}: a damaged .npz archive ({type(err).__name__}: {err})") from None
    feats = arrays["node_features"]
    if feats.ndim != 2 or not (np.issubdtype(feats.dtype, np.number) or feats.dtype == np.bool_):
        raise InvalidGraphError(
            f"{path}: node_features must be a numeric [N, F] array, got {feats.dtype} {feats.shape}"
        )
    x = torch.from_numpy(feats.astype(np.float32))
    n = x.size(0)
    y = _integral(arrays["node_labels"], path, "node_labels", "class ids")
    if y.dim() != 1 or y.numel() != n:
        raise InvalidGraphError(f"{path}: node_labels must be [N] = [{n}] (one per node), got {tuple(y.shape)}")
    edges = _integral(arrays["edges"], path, "edges", "node ids")
    if edges.dim() != 2 or edges.size(1) != 2:
        raise InvalidGraphError(f"{path}: edges must be [E, 2], got {tuple(edges.shape)}")
    if edges.numel() and (int(edges.min()) < 0 or int(edges.max()) >= n):
        bad = int(edges.min()) if int(edges.min()) < 0 else int(edges.max())
        raise InvalidGraphError(f"{path}: edges name node {bad}; the graph's nodes are 0 to {n - 1}")
    masks = {}
    for key in ("train", "val", "test"):
        for field, stacked in ((f"{key}_masks", True), (f"{key}_mask", False)):
            if field not in arrays:
                continue
            mask = _integral(arrays[field], path, field, "a mask (0/1 or booleans)")
            if mask.numel() and (int(mask.min()) < 0 or int(mask.max()) > 1):
                raise InvalidGraphError(f"{path}: {field} must hold 0/1 or booleans, found {int(mask.max())}")
            mask = mask.bool().t().contiguous() if stacked else mask.bool()
            if mask.size(0) != n:
                raise InvalidGraphError(f"{path}: {field} must have one entry per node ({n}), got {tuple(mask.shape)}")
            masks[key] = mask
            break
    return make_graph(name, x, y, edges.t().contiguous(), masks=masks or None)
