"""Smaller, faster students for serving: int8 and bf16 versions of a trained MLP.

* ``fp32``: the trained model as is.
* ``int8``: dynamic quantisation of every linear layer, ``nn.Linear`` and PyG's ``Linear`` (the MLP
  student's, made an ``nn.Linear`` of the same weights first; ``torch.ao.quantization.quantize_dynamic``):
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
        return torch.ao.quantization.quantize_dynamic(_torch_linears(model), {nn.Linear}, dtype=torch.qint8)


def _torch_linears(model: nn.Module) -> nn.Module:
    """``model`` with each of PyG's ``Linear`` layers replaced, in place, by an ``nn.Linear`` holding
    the same parameters (the same product; ``quantize_dynamic`` maps ``nn.Linear`` only)."""
    from torch_geometric.nn import Linear as PygLinear

    for module in list(model.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, PygLinear):
                linear = nn.Linear(child.in_channels, child.out_channels, bias=child.bias is not None)
                linear.weight = child.weight
                if child.bias is not None:
                    linear.bias = child.bias
                setattr(module, child_name, linear)
    return model
