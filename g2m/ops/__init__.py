"""Scatter/gather primitives shared by the edge- and anchor-wise losses."""

from g2m.ops.scatter import (
    BACKENDS,
    HAS_TORCH_SCATTER,
    resolve_backend,
    scatter,
    scatter_log_softmax,
    scatter_softmax,
)

__all__ = [
    "BACKENDS",
    "HAS_TORCH_SCATTER",
    "resolve_backend",
    "scatter",
    "scatter_softmax",
    "scatter_log_softmax",
]
