"""Small building blocks shared by teachers and students."""

from __future__ import annotations

from torch import nn

NORMS = ("none", "batch", "layer")


def make_norm(kind: str, dim: int) -> nn.Module:
    """``none`` | ``batch`` (BatchNorm1d) | ``layer`` (LayerNorm) over ``dim`` features."""
    if kind not in NORMS:
        raise ValueError(f"unknown norm {kind!r}; choose one of {NORMS}")
    if kind == "none":
        return nn.Identity()
    return nn.BatchNorm1d(dim) if kind == "batch" else nn.LayerNorm(dim)
