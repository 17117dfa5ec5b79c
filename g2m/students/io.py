"""Save and load trained students (weights + the config that rebuilds them), atomically: node
students (an MLP, logits per node) and link students (an MLP encoder and its pair scorer)."""

from __future__ import annotations

import io
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from g2m.config import LinkStudentConfig, StudentConfig
from g2m.errors import G2MError
from g2m.files import atomic_write_bytes, atomic_write_text
from g2m.layers import LinkScorer
from g2m.students.injected import InjectedMLP
from g2m.students.mlp import MLP


def save_student(
    out_dir: str | os.PathLike,
    model: MLP | InjectedMLP,
    config: StudentConfig,
    meta: dict[str, Any],
    position: Tensor | None = None,
) -> Path:
    """Write ``student.pt`` (state dict), ``position.pt`` (the ``[N, P]`` position features the
    student appends to each node's input, if it has any) and then ``student.json`` (config,
    dims, meta)."""
    out = Path(out_dir)
    # CPU tensors whatever the training device, so that any machine loads them
    atomic_write_bytes(out / "student.pt", _serialise({k: v.cpu() for k, v in model.state_dict().items()}))
    if position is not None:
        atomic_write_bytes(out / "position.pt", _serialise(position.cpu()))
    dims = {
        "in_dim": model.in_channels,
        "out_dim": model.out_channels,
        "position_dim": 0 if position is None else position.size(1),
        **({"teacher_shapes": model.teacher_shapes} if isinstance(model, InjectedMLP) else {}),
    }
    atomic_write_text(out / "student.json", json.dumps({"config": asdict(config), **dims, **meta}, indent=2))
    return out


def _serialise(obj: Any) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def student_folder(root: str | os.PathLike, method: str, seed: int) -> Path:
    """Where ``g2m run --save-students ROOT`` saves a method's student of one seed."""
    return Path(root) / f"{method}-seed{seed}"


def _read_meta(path: Path) -> dict[str, Any]:
    """``path``'s ``student.json``; a missing one is one error naming the folder."""
    meta_file = path / "student.json"
    if not meta_file.is_file():
        raise FileNotFoundError(f"no saved student in {path} (student.json missing)")
    return json.loads(meta_file.read_text())


def student_task(path: str | os.PathLike) -> str:
    """``"node"`` or ``"link"``: which kind of student ``path`` holds (``student.json``'s ``task``)."""
    return str(_read_meta(Path(path)).get("task", "node"))


def load_student(path: str | os.PathLike) -> tuple[MLP | InjectedMLP, StudentConfig, dict[str, Any]]:
    path = Path(path)
    meta = _read_meta(path)
    if meta.get("task") == "link":
        raise G2MError(f"{path} holds a link student (an encoder and a pair scorer): load it with load_link_student")
    config = StudentConfig(**meta["config"])
    model: MLP | InjectedMLP
    if config.teacher_injection:  # TINED's student: its layers follow the teacher's recorded shapes
        shapes = [tuple(shape) for shape in meta["teacher_shapes"]]
        model = InjectedMLP.empty(shapes, meta["in_dim"], dropout=config.dropout, norm=config.norm)  # type: ignore[arg-type]
    else:
        model = MLP(meta["in_dim"], meta["out_dim"], **config.model_kwargs())
    model.load_state_dict(torch.load(path / "student.pt", weights_only=True))
    model.eval()
    return model, config, meta


def save_link_student(
    out_dir: str | os.PathLike,
    encoder: nn.Module,
    scorer: LinkScorer,
    config: LinkStudentConfig,
    meta: dict[str, Any],
) -> Path:
    """Write a link student: ``student.pt`` (the encoder's and the scorer's weights, ``encoder.*`` and
    ``scorer.*``) and then ``student.json`` (``task = "link"``, config, dims, meta)."""
    if not isinstance(encoder, MLP):
        raise TypeError(f"a link student's encoder is g2m's MLP, got {type(encoder).__name__}")
    out = Path(out_dir)
    state = {f"encoder.{k}": v.cpu() for k, v in encoder.state_dict().items()}
    state.update({f"scorer.{k}": v.cpu() for k, v in scorer.state_dict().items()})
    atomic_write_bytes(out / "student.pt", _serialise(state))
    dims = {
        "in_dim": encoder.in_channels,
        "embedding_dim": scorer.dim,
        "scorer": scorer.kind,
        "scorer_hidden": scorer.hidden,
    }
    atomic_write_text(
        out / "student.json", json.dumps({"task": "link", "config": asdict(config), **dims, **meta}, indent=2)
    )
    return out


def load_link_student(path: str | os.PathLike) -> tuple[MLP, LinkScorer, LinkStudentConfig, dict[str, Any]]:
    """The encoder, scorer (both in eval mode), config and ``student.json`` of a saved link student."""
    path = Path(path)
    meta = _read_meta(path)
    if meta.get("task") != "link":
        raise G2MError(f"{path} holds a node student: load it with load_student")
    config = LinkStudentConfig(**meta["config"])
    encoder = MLP(meta["in_dim"], config.hidden, **config.model_kwargs())
    scorer = LinkScorer(meta["scorer"], meta["embedding_dim"], meta["scorer_hidden"])
    state = torch.load(path / "student.pt", weights_only=True)
    for prefix, module in (("encoder.", encoder), ("scorer.", scorer)):
        module.load_state_dict({k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)})
        module.eval()
    return encoder, scorer, config, meta


def student_inputs(path: str | os.PathLike, meta: dict[str, Any], x: Tensor) -> Tensor:
    """The input a saved student reads: the node features ``x``, followed by its saved
    position features when it has any (``position.pt``)."""
    if not meta.get("position_dim"):
        return x
    table = torch.load(Path(path) / "position.pt", weights_only=True)
    if table.size(0) != x.size(0):
        raise ValueError(f"the student's position table has {table.size(0)} rows, the graph {x.size(0)} nodes")
    return torch.cat([x, table], dim=1)


def read_tensor_file(path: str | os.PathLike, option: str = "tensor file") -> Tensor:
    """A tensor a user hands g2m (``--teacher-logits``, ``--teacher-hidden``), read as data: a
    ``.pt`` holding one tensor (``torch.load(..., weights_only=True)``) or a ``.npy`` array
    (``numpy.load(..., allow_pickle=False)``); float32 on the CPU."""
    import numpy as np

    from g2m.errors import G2MError

    path = Path(path)
    if not path.is_file():
        raise G2MError(f"{option} {path}: no such file")
    try:
        if path.suffix == ".npy":
            value = torch.from_numpy(np.load(path, allow_pickle=False))
        else:
            value = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as err:  # noqa: BLE001 (whatever torch / numpy raise on a bad or unsafe file)
        raise G2MError(
            f"{option} {path}: not a tensor saved with torch.save or numpy.save "
            f"({type(err).__name__}: {str(err).splitlines()[0][:200]})"
        ) from None
    if not isinstance(value, Tensor) or value.dim() != 2:
        shape = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
        raise G2MError(f"{option} {path}: expected one [N, C] tensor, got {shape}")
    if not torch.isfinite(value).all():
        raise G2MError(f"{option} {path}: holds NaN or inf values")
    return value.float()
