"""Declarative dataset specifications, one TOML file per dataset in ``datasets/``.

A spec says how to load a dataset (``loader`` and ``loader_args``), which split
protocol and metric to use, the sizes it must have once loaded, the files a
user must place under the data root when there is no network, and the
recommended hyper-parameters (``[hparams.*]`` tables).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import tomllib

from g2m.errors import DatasetNotFoundError

TASKS = ("node", "link")
METRICS = ("accuracy", "rocauc", "hits@20", "hits@50", "mrr")
SPLITS = ("public", "random", "fixed", "ogb", "glnn", "linkx")


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    description: str
    loader: str
    task: str
    metric: str
    split: str
    num_nodes: int | None = None
    num_edges: int | None = None
    raw_num_edges: int | None = None
    num_features: int | None = None
    num_classes: int | None = None
    offline: bool = False
    files: tuple[str, ...] = ()
    loader_args: dict[str, Any] = field(default_factory=dict)
    hparams: dict[str, Any] = field(default_factory=dict)
    tune: dict[str, Any] = field(default_factory=dict)  # search spaces of `g2m tune`, per method
    #: the best node student per teacher, chosen on validation: ``[best.<teacher>] method = "..."``
    #: (``g2m compare <run> --best``), with ``source = "<results file>"`` where the run that chose it
    #: is committed (a test holds the two equal); ``g2m run --methods best`` trains it
    best: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for attr, allowed in (("task", TASKS), ("metric", METRICS), ("split", SPLITS)):
            if getattr(self, attr) not in allowed:
                raise ValueError(f"dataset spec {self.name!r}: {attr}={getattr(self, attr)!r} not in {allowed}")

    def best_method(self, teacher: str) -> str:
        """The node method ``[best.<teacher>]`` records for this dataset."""
        entry = self.best.get(teacher)
        if not isinstance(entry, dict) or "method" not in entry:
            raise ValueError(
                f"{self.name} records no best student for a {teacher} teacher: rank a run's students "
                f'with `g2m compare <run> --best` and add [best.{teacher}] method = "..." to '
                f"datasets/{self.name}.toml"
            )
        return str(entry["method"])

    def preset(self, *keys: str) -> dict[str, Any]:
        """Nested lookup in ``hparams``; missing levels give ``{}``."""
        node: Any = self.hparams
        for key in keys:
            node = node.get(key, {}) if isinstance(node, dict) else {}
        return dict(node) if isinstance(node, dict) else {}


def _parse(text: str, source: str) -> DatasetSpec:
    raw = tomllib.loads(text)
    try:
        raw["files"] = tuple(raw.get("files", ()))
        return DatasetSpec(**raw)
    except TypeError as err:
        raise ValueError(f"malformed dataset spec {source}: {err}") from err


#: environment variable naming folders (``os.pathsep``-separated) of the user's own dataset specs
USER_SPECS_ENV = "G2M_SPECS"
#: graph files ``-d`` / ``--graph`` takes directly (g2m.data.graph_file)
GRAPH_FILE_SUFFIXES = (".pt", ".npz")


def load_specs() -> dict[str, DatasetSpec]:
    """All specs by name: those shipped in ``g2m.specs`` (the ``datasets/`` folder),
    then every ``*.toml`` in the folders ``$G2M_SPECS`` names. A user spec may not take a
    shipped dataset's name."""
    specs = dict(_shipped_specs())
    for folder in filter(None, os.environ.get(USER_SPECS_ENV, "").split(os.pathsep)):  # read afresh: users edit them
        if not Path(folder).is_dir():
            raise DatasetNotFoundError(f"${USER_SPECS_ENV} names {folder}, which is not a folder")
        for path in sorted(Path(folder).glob("*.toml")):
            spec = spec_from_file(path)
            if spec.name in specs:
                raise ValueError(f"dataset spec {path} is named {spec.name!r}, as a dataset g2m ships; rename it")
            specs[spec.name] = spec
    return specs


@lru_cache(maxsize=1)
def _shipped_specs() -> dict[str, DatasetSpec]:
    specs = {}
    for entry in sorted(resources.files("g2m.specs").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            spec = _parse(entry.read_text(), entry.name)
            specs[spec.name] = spec
    return specs


def spec_from_file(path: str | os.PathLike) -> DatasetSpec:
    """A dataset spec from a TOML file anywhere (``-d my.toml``, ``--spec my.toml``)."""
    try:
        return _parse(Path(path).read_text(), str(path))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise DatasetNotFoundError(f"cannot read dataset spec {path}: {err}") from None


def missing_files(spec: DatasetSpec, root: Path) -> list[str]:
    """The files ``spec`` lists that are not under ``root``."""
    return [f for f in spec.files if not (root / f).exists()]


def with_preset(spec: DatasetSpec, preset: dict[str, Any]) -> DatasetSpec:
    """``spec`` with the ``[hparams...]`` tables of ``preset`` (a preset file written by
    ``g2m tune``) layered over its own, table by table."""

    def merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
        out = dict(base)
        for key, value in top.items():
            out[key] = merge(out.get(key, {}), value) if isinstance(value, dict) else value
        return out

    unknown = set(preset) - {"hparams"}
    if unknown:
        raise ValueError(f"a preset holds [hparams...] tables only; found {sorted(unknown)}")
    return replace(spec, hparams=merge(spec.hparams, preset.get("hparams", {})))


def recipe_names() -> list[str]:
    """The recipes shipped in ``datasets/recipes/`` (``nosmog``, ...)."""
    folder = resources.files("g2m.specs").joinpath("recipes")
    return sorted(entry.name.removesuffix(".toml") for entry in folder.iterdir() if entry.name.endswith(".toml"))


def read_recipe(name: str) -> dict[str, Any]:
    """A shipped recipe, parsed: its ``teachers`` and one ``[<dataset>.hparams...]`` table per dataset."""
    if name not in recipe_names():
        raise ValueError(f"unknown recipe {name!r}; choose one of {', '.join(recipe_names())}")
    return tomllib.loads(resources.files("g2m.specs").joinpath("recipes").joinpath(f"{name}.toml").read_text())


def with_recipe(spec: DatasetSpec, name: str, teacher: str | None = None) -> DatasetSpec:
    """``spec`` with its node teacher and student presets replaced, whole, by recipe ``name``'s
    tables for this dataset: a paper's official teacher and student loop, none of the dataset's
    other presets leaking in (its link presets stay). ``teacher``, when given, must be one the
    recipe defines. A recipe with ``dataset_presets = true`` (``ffg2m``) names the dataset's own
    presets, for the ``datasets`` it lists: ``spec`` is returned as it is."""
    recipe = read_recipe(name)
    datasets = recipe.get("datasets") or sorted(k for k, v in recipe.items() if isinstance(v, dict))
    if spec.name not in datasets:
        raise ValueError(f"recipe {name!r} has settings for {', '.join(datasets)}, not {spec.name!r}")
    teachers = recipe.get("teachers", [])
    if teacher is not None and teacher not in teachers:
        raise ValueError(
            f"recipe {name!r} defines a {' / '.join(teachers)} teacher, not {teacher!r}: pick it with -t "
            f"{teachers[0]} (or leave -t out)"
        )
    if recipe.get("dataset_presets"):  # a recipe that names the dataset's own presets (ffg2m)
        return spec
    tables = recipe[spec.name].get("hparams", {})
    hparams = {k: v for k, v in spec.hparams.items() if k not in ("teacher", "student")}
    return replace(
        spec, hparams={**hparams, "teacher": tables.get("teacher", {}), "student": tables.get("student", {})}
    )


def read_preset(path: str | os.PathLike) -> dict[str, Any]:
    """A preset TOML file (``g2m tune``'s ``preset.toml``), parsed; a clear error otherwise."""
    try:
        return tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise ValueError(f"cannot read preset {path}: {err}") from None


def get_spec(name: str) -> DatasetSpec:
    """The spec of a registered dataset, of a spec file (``*.toml``), or of a graph file
    (``*.pt`` / ``*.npz``, :func:`g2m.data.graph_file.graph_file_spec`)."""
    specs = load_specs()
    if name in specs:
        return specs[name]
    if name.endswith(".toml"):
        return spec_from_file(name)
    if name.endswith(GRAPH_FILE_SUFFIXES):
        from g2m.data.graph_file import graph_file_spec

        return graph_file_spec(name)
    raise DatasetNotFoundError(
        f"unknown dataset {name!r}; known datasets: {', '.join(sorted(specs))} (or a spec file *.toml, or a "
        f"graph file *.pt / *.npz)"
    )
