"""Export a trained student as a file that plain PyTorch loads: no PyG, no g2m.

* ``fp32`` and ``bf16``: a ``torch.export`` program (``.pt2``); load it with
  ``torch.export.load(path).module()``.
* ``int8``: TorchScript, traced (``torch.jit.load(path)``), because ``torch.export`` cannot
  serialise the packed int8 weights of dynamically quantised ``Linear`` layers.

:func:`load_exported` reads either. A node student's program takes a ``[batch, in_dim]``
float32 tensor of node features (dynamic batch size) and returns float32 logits; a link student's
(:class:`LinkPredictor`) takes the two ends' features, ``[batch, in_dim]`` each, and returns the
``[batch]`` link logits.
"""

from __future__ import annotations

import copy
import io
import os
import warnings
import zipfile
from pathlib import Path

import torch
from torch import nn

from g2m.errors import G2MError
from g2m.files import atomic_write_bytes
from g2m.students.precision import BF16Student, with_precision


class LinkPredictor(nn.Module):
    """A link student as one module: ``scorer(encoder(x_u), encoder(x_v))``, the logits of the pairs
    whose ends have features ``x_u`` and ``x_v`` (``[B, F]`` each; no graph read)."""

    def __init__(self, encoder: nn.Module, scorer: nn.Module) -> None:
        super().__init__()
        self.encoder, self.scorer = encoder, scorer

    def forward(self, x_u: torch.Tensor, x_v: torch.Tensor) -> torch.Tensor:
        return self.scorer(self.encoder(x_u), self.encoder(x_v))


def export_student(model: nn.Module, in_dim: int, path: str | os.PathLike, precision: str = "fp32") -> Path:
    """Save ``model`` at ``precision`` (see :mod:`g2m.students.precision`) atomically. A
    :class:`LinkPredictor` takes two inputs, any other student one."""
    inputs = 2 if isinstance(model, LinkPredictor) else 1
    model = with_precision(copy.deepcopy(model).cpu().eval(), precision)  # served on the CPU
    example = tuple(torch.randn(4, in_dim, device="cpu") for _ in range(inputs))
    buf = io.BytesIO()  # serialised in memory: torch never sees (or names) a temporary file
    if precision == "int8":
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)  # TorchScript
            torch.jit.save(torch.jit.trace(model, example), buf)  # an MLP has no data-dependent branch
    else:
        batch = torch.export.Dim("batch", min=1)
        rest = tuple({0: batch} for _ in range(inputs - 1))  # both ends of a pair share the batch
        # BF16Student's forward(x, *more) takes the second end as a variadic argument
        shapes = ({0: batch}, rest) if isinstance(model, BF16Student) and rest else ({0: batch}, *rest)
        torch.export.save(torch.export.export(model, example, dynamic_shapes=shapes), buf)
    return atomic_write_bytes(path, buf.getvalue())


def load_exported(path: str | os.PathLike) -> nn.Module:
    """Load a file written by :func:`export_student`, whichever format it is."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile) as err:
        raise G2MError(f"{path} is not an exported student ({err})") from None
    if any(n.endswith("/constants.pkl") or n.endswith("/code/") or "/code/" in n for n in names):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            return torch.jit.load(str(path))
    return torch.export.load(str(path)).module()
