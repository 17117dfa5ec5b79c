"""Loader functions, one per data source, named by the ``loader`` field of a spec.

Real datasets load through their PyG / OGB classes, so with a network they
download as usual. When that fails and the files a spec lists are missing,
a :class:`~g2m.errors.DatasetUnavailableError` says which files to put where.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from g2m.data.csbm import csbm_tensors
from g2m.data.graph import Graph, make_graph
from g2m.data.specs import DatasetSpec, missing_files
from g2m.data.splits import labelled_fractions
from g2m.errors import DatasetUnavailableError

Loader = Callable[[DatasetSpec, Path], Graph]
LOADERS: dict[str, Loader] = {}


def register(name: str) -> Callable[[Loader], Loader]:
    def wrap(fn: Loader) -> Loader:
        LOADERS[name] = fn
        return fn

    return wrap


def _remove_empty_leftovers(root: Path, before: set[Path] | None) -> None:
    """After a failed load, remove the folders it created under ``root`` (and ``root``
    itself, when it created that) that hold no file: a download that never came leaves
    ``PubMed/raw/`` behind otherwise."""
    if not root.is_dir():
        return
    for child in set(root.iterdir()) - (before or set()):
        if child.is_dir() and not any(p.is_file() for p in child.rglob("*")):
            shutil.rmtree(child, ignore_errors=True)
    if before is None and not any(root.iterdir()):
        root.rmdir()


def _fetch(spec: DatasetSpec, root: Path, factory: Callable[[], Any]) -> Any:
    """Run a PyG/OGB constructor; explain missing files instead of a network trace."""
    missing = missing_files(spec, root)
    before = set(root.iterdir()) if root.is_dir() else None
    try:
        return factory()
    except Exception as err:  # noqa: BLE001 - re-raised below with the cause attached
        _remove_empty_leftovers(root, before)
        if not missing:
            raise
        listing = "\n  ".join(str(root / f) for f in missing)
        raise DatasetUnavailableError(
            f"dataset {spec.name!r} is not on disk and could not be downloaded "
            f"({type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else 'no detail'}).\n"
            f"Without a network, place these files (data root {root}, set with --data-root "
            f"or G2M_DATA_ROOT):\n  {listing}"
        ) from None


def _masks(data: Any) -> dict[str, torch.Tensor]:
    return {
        key: getattr(data, f"{key}_mask")
        for key in ("train", "val", "test")
        if getattr(data, f"{key}_mask", None) is not None
    }


def _from_pyg(spec: DatasetSpec, dataset: Any) -> Graph:
    data = dataset[0]
    return make_graph(spec.name, data.x, data.y, data.edge_index, dataset.num_classes, _masks(data))


@register("planetoid")
def load_planetoid(spec: DatasetSpec, root: Path) -> Graph:
    from torch_geometric.datasets import Planetoid

    ds = _fetch(spec, root, lambda: Planetoid(str(root), spec.loader_args["name"]))
    return _from_pyg(spec, ds)


@register("webkb")
def load_webkb(spec: DatasetSpec, root: Path) -> Graph:
    from torch_geometric.datasets import WebKB

    return _from_pyg(spec, _fetch(spec, root, lambda: WebKB(str(root), spec.loader_args["name"])))


@register("actor")
def load_actor(spec: DatasetSpec, root: Path) -> Graph:
    from torch_geometric.datasets import Actor

    return _from_pyg(spec, _fetch(spec, root, lambda: Actor(str(root / "Actor"))))


@register("heterophilous")
def load_heterophilous(spec: DatasetSpec, root: Path) -> Graph:
    from torch_geometric.datasets import HeterophilousGraphDataset

    name = spec.loader_args["name"]
    return _from_pyg(spec, _fetch(spec, root, lambda: HeterophilousGraphDataset(str(root), name)))


@register("linkx")
def load_linkx(spec: DatasetSpec, root: Path) -> Graph:
    """LINKX's non-homophilous graphs (Lim et al., 2021), e.g. the Facebook100 ones;
    a label of -1 marks an unlabelled node (no split uses it)."""
    from torch_geometric.datasets import LINKXDataset

    ds = _fetch(spec, root, lambda: LINKXDataset(str(root), spec.loader_args["name"]))
    data = ds[0]
    return make_graph(spec.name, data.x, data.y, data.edge_index, int(data.y.max()) + 1, _masks(data))


@register("amazon")
def load_amazon(spec: DatasetSpec, root: Path) -> Graph:
    from torch_geometric.datasets import Amazon

    return _from_pyg(spec, _fetch(spec, root, lambda: Amazon(str(root), spec.loader_args["name"])))


@register("coauthor")
def load_coauthor(spec: DatasetSpec, root: Path) -> Graph:
    from torch_geometric.datasets import Coauthor

    ds = _fetch(spec, root, lambda: Coauthor(str(root), spec.loader_args["name"]))
    return _from_pyg(spec, ds)


@register("filtered_npz")
def load_filtered_npz(spec: DatasetSpec, root: Path) -> Graph:
    """Platonov et al.'s duplicate-free Chameleon/Squirrel (plain ``.npz``, no PyG class)."""
    path = root / spec.files[0]
    if not path.exists():
        raise DatasetUnavailableError(
            f"dataset {spec.name!r}: {path} not found (no download source is known; "
            f"place {spec.files[0]} under the data root {root})"
        )
    with np.load(path) as raw:
        masks = {key: torch.from_numpy(raw[f"{key}_masks"]).bool().t().contiguous() for key in ("train", "val", "test")}
        x = torch.from_numpy(raw["node_features"])
        y = torch.from_numpy(raw["node_labels"])
        edges = torch.from_numpy(raw["edges"]).t().contiguous()
    return make_graph(spec.name, x, y, edges, masks=masks)


def pyg_safe_globals() -> contextlib.AbstractContextManager:
    """``torch.load(..., weights_only=True)`` may build PyG's ``Data`` and nothing else: what OGB
    saves of itself, and a user's graph file (:mod:`g2m.data.graph_file`)."""
    from torch_geometric.data.data import Data, DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import GlobalStorage

    return torch.serialization.safe_globals([Data, DataEdgeAttr, DataTensorAttr, GlobalStorage])


@register("ogbn")
def load_ogbn(spec: DatasetSpec, root: Path) -> Graph:
    from ogb.nodeproppred import PygNodePropPredDataset

    with pyg_safe_globals():
        ds = _fetch(spec, root, lambda: PygNodePropPredDataset(spec.loader_args["name"], str(root)))
        split = ds.get_idx_split()
    data = ds[0]
    n = data.num_nodes
    masks = {}
    for key, ogb_key in (("train", "train"), ("val", "valid"), ("test", "test")):
        mask = torch.zeros(n, dtype=torch.bool, device="cpu")
        mask[split[ogb_key]] = True
        masks[key] = mask
    return make_graph(spec.name, data.x, data.y.view(-1), data.edge_index, ds.num_classes, masks)


@register("ogbl")
def load_ogbl(spec: DatasetSpec, root: Path) -> Graph:
    from ogb.linkproppred import PygLinkPropPredDataset

    with pyg_safe_globals():
        ds = _fetch(spec, root, lambda: PygLinkPropPredDataset(spec.loader_args["name"], str(root)))
        split = ds.get_edge_split()
    data = ds[0]
    link_split = {
        f"{part}/{key}": torch.as_tensor(value, device="cpu")
        for part, entries in split.items()
        for key, value in entries.items()
    }
    return make_graph(spec.name, data.x, None, data.edge_index, 0, link_split=link_split)


@register("csbm")
def load_csbm(spec: DatasetSpec, root: Path, **overrides: Any) -> Graph:
    """``split_fractions = [train, val]`` in the loader arguments adds fixed masks (a seeded
    permutation; the rest is test), the shape of OGB's one official split (split "fixed")."""
    params = {**spec.loader_args, **overrides}
    fractions = params.pop("split_fractions", None)
    x, y, edge_index = csbm_tensors(**params)
    masks = None if fractions is None else fraction_masks(y.numel(), fractions, params.get("seed", 0))
    return make_graph(spec.name, x, y, edge_index, params.get("num_classes"), masks)


def fraction_masks(num_nodes: int, fractions: Any, seed: int) -> dict[str, torch.Tensor]:
    """Train / validation / test masks over every node: ``fractions = [train, val]`` of a seeded
    permutation, the rest test."""
    if len(fractions) != 2 or min(fractions) <= 0 or sum(fractions) >= 1:
        raise ValueError(f"split_fractions must be [train, val], both positive, sum below 1; got {fractions}")
    every_node = torch.zeros(num_nodes, dtype=torch.long, device="cpu")  # all labelled
    parts = labelled_fractions(every_node, tuple(fractions), torch.Generator(device="cpu").manual_seed(seed))
    masks = {}
    for name, idx in zip(("train", "val", "test"), parts):
        masks[name] = torch.zeros(num_nodes, dtype=torch.bool, device="cpu")
        masks[name][idx] = True
    return masks


@register("file")
def load_graph_file(spec: DatasetSpec, root: Path) -> Graph:
    """A user's graph file (``loader_args.path``; relative paths from the data root), read as data:
    :mod:`g2m.data.graph_file`."""
    from g2m.data.graph_file import read_graph_file

    path = Path(spec.loader_args.get("path", ""))
    path = path if path.is_absolute() else root / path
    if not path.is_file():
        raise DatasetUnavailableError(f"dataset {spec.name!r}: graph file {path} not found")
    return read_graph_file(path, spec.name)
