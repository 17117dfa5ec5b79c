"""Smaller, faster students for serving: int8 and bf16 versions of a trained MLP.

* ``fp32``: the trained model as is.
* ``int8``: dynamic quantisation of every ``nn.Linear`` (``torch.ao.quantization.quantize_dynamic``):
  weights stored as int8 per tensor, activations quantised per batch at run time, int8 GEMMs
  (fbgemm / oneDNN on x86). No calibration data needed.
* ``bf16``: weights in bfloat16; features are cast on the way in and logits back to float32,
  so callers keep passing float32 features.

The accuracy each costs is measured, not assumed: ``g2m bench serving`` reports it next to
the latency.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor, nn

PRECISIONS = ("fp32", "int8", "bf16")


class BF16Student(nn.Module):
    """``model`` in bfloat16 behind a float32 interface (every input cast: a link student takes the
    two ends' features)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model.to(torch.bfloat16)

    def forward(self, x: Tensor, *more: Tensor) -> Tensor:
        return self.model(x.to(torch.bfloat16), *(t.to(torch.bfloat16) for t in more)).float()


def with_precision(model: nn.Module, precision: str) -> nn.Module:
    """A copy of ``model`` (eval mode) at ``precision``; the original is left unchanged."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {PRECISIONS}")
    import copy

    model = copy.deepcopy(model).eval()
    if precision == "fp32":
        return model
    if precision == "bf16":
        return BF16Student(model).eval()
    with warnings.catch_warnings():
        # torch >= 2.10 points to torchao for new code; its eager dynamic int8 path is what
        # serves an MLP fastest here (measured in the README) and has no extra dependency
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*")
        return torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
