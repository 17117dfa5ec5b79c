"""Export a trained student as a ``torch.export`` program: plain PyTorch, no PyG, no g2m.

Load it anywhere with ``torch.export.load(path).module()`` and call it on a
``[batch, in_dim]`` float tensor of node features; the batch size is dynamic.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import torch
from torch import nn

from g2m.evaluation.report import atomic_write_bytes


def export_student(model: nn.Module, in_dim: int, path: str | os.PathLike) -> Path:
    """Trace ``model`` (eval mode) with a dynamic batch dimension and save it atomically."""
    model = model.eval()
    example = (torch.randn(4, in_dim),)
    batch = torch.export.Dim("batch", min=1)
    program = torch.export.export(model, example, dynamic_shapes=({0: batch},))
    buf = io.BytesIO()  # serialised in memory: torch never sees (or names) a temporary file
    torch.export.save(program, buf)
    return atomic_write_bytes(path, buf.getvalue())


def load_exported(path: str | os.PathLike) -> nn.Module:
    return torch.export.load(str(path)).module()
