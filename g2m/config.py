"""Hyper-parameter configs: code defaults <- dataset preset (``[hparams.*]``) <- explicit overrides."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, TypeVar

from g2m.data.specs import DatasetSpec

T = TypeVar("T")


@dataclass(frozen=True)
class TeacherConfig:
    model: str = "gcn"
    hidden: int = 256
    num_layers: int = 2
    dropout: float = 0.5
    norm: str = "none"
    heads: int = 8
    lr: float = 0.01
    weight_decay: float = 5e-4
    epochs: int = 500
    patience: int = 50

    def model_kwargs(self) -> dict[str, Any]:
        kw = {k: getattr(self, k) for k in ("hidden", "num_layers", "dropout", "norm")}
        if self.model == "gat":
            kw["heads"] = self.heads
        return kw


@dataclass(frozen=True)
class StudentConfig:
    method: str = "ffg2m"
    hidden: int = 256
    num_layers: int = 2
    dropout: float = 0.5
    input_dropout: float = 0.0
    norm: str = "none"
    lr: float = 0.01
    weight_decay: float = 5e-4
    epochs: int = 500
    patience: int = 50
    lam: float = 0.0
    tau: float = 1.0
    chunk_size: int | None = None

    def model_kwargs(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("hidden", "num_layers", "dropout", "norm", "input_dropout")}


def _merge(cls: type[T], base: T, *layers: dict[str, Any]) -> T:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    out = base
    for layer in layers:
        unknown = set(layer) - names
        if unknown:
            raise ValueError(f"unknown {cls.__name__} fields {sorted(unknown)}; known: {sorted(names)}")
        out = replace(out, **{k: v for k, v in layer.items() if v is not None})  # type: ignore[type-var]
    return out


def teacher_config(spec: DatasetSpec | None, model: str, **overrides: Any) -> TeacherConfig:
    """Preset lookup: ``[hparams.teacher]`` then ``[hparams.teacher.<model>]``."""
    layers = []
    if spec is not None:
        common = {k: v for k, v in spec.preset("teacher").items() if not isinstance(v, dict)}
        layers = [common, spec.preset("teacher", model)]
    return _merge(TeacherConfig, TeacherConfig(model=model), *layers, overrides)


def student_config(spec: DatasetSpec | None, method: str, teacher: str, **overrides: Any) -> StudentConfig:
    """Preset lookup: ``[hparams.student]``, ``[hparams.student.<method>]``,
    ``[hparams.student.<method>.<teacher>]``."""
    layers = []
    if spec is not None:
        def flat(d: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in d.items() if not isinstance(v, dict)}

        layers = [
            flat(spec.preset("student")),
            flat(spec.preset("student", method)),
            spec.preset("student", method, teacher),
        ]
    return _merge(StudentConfig, StudentConfig(method=method), *layers, overrides)


def as_dict(config: Any) -> dict[str, Any]:
    return asdict(config)
