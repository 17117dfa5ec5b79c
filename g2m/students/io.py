"""Save and load trained students (weights + the config that rebuilds them), atomically."""

from __future__ import annotations

import io
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from g2m.config import StudentConfig
from g2m.evaluation.report import atomic_write_bytes, atomic_write_text
from g2m.students.mlp import MLP


def save_student(out_dir: str | os.PathLike, model: MLP, config: StudentConfig, meta: dict[str, Any]) -> Path:
    """Write ``student.pt`` (state dict) then ``student.json`` (config, dims, meta)."""
    out = Path(out_dir)
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    atomic_write_bytes(out / "student.pt", buf.getvalue())
    dims = {"in_dim": model.layers[0].in_features, "out_dim": model.layers[-1].out_features}
    atomic_write_text(out / "student.json", json.dumps({"config": asdict(config), **dims, **meta}, indent=2))
    return out


def load_student(path: str | os.PathLike) -> tuple[MLP, StudentConfig, dict[str, Any]]:
    path = Path(path)
    meta_file = path / "student.json"
    if not meta_file.is_file():
        raise FileNotFoundError(f"no saved student in {path} (student.json missing)")
    meta = json.loads(meta_file.read_text())
    config = StudentConfig(**meta["config"])
    model = MLP(meta["in_dim"], meta["out_dim"], **config.model_kwargs())
    model.load_state_dict(torch.load(path / "student.pt", weights_only=True))
    model.eval()
    return model, config, meta
