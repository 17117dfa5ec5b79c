r"""Group reductions over an index vector ("scatter" ops).

Every function reduces the rows of ``src`` that share a value of ``index``
(a LongTensor of length ``src.size(0)``) into row ``index[i]`` of an output
with ``dim_size`` rows:

.. math::
    \mathrm{out}_g = \bigoplus_{i : \mathrm{index}_i = g} \mathrm{src}_i

The ``backend`` argument selects the implementation: ``"torch_scatter"``
(the compiled kernels of torch-scatter), ``"native"`` (``Tensor.index_add_``
and ``Tensor.scatter_reduce_``) or ``"auto"`` (torch-scatter when it imports,
native otherwise). Both run unchanged on CPU and CUDA and give equal results
(tested). Asking for ``"torch_scatter"`` when it is not installed raises
instead of falling back silently.
"""

from __future__ import annotations

import importlib.util
from typing import Literal

import torch
from torch import Tensor

from g2m.optional import resolve_choice

Reduce = Literal["sum", "mean", "max", "min"]
BACKENDS = ("auto", "native", "torch_scatter")
HAS_TORCH_SCATTER: bool = importlib.util.find_spec("torch_scatter") is not None


def resolve_backend(backend: str = "auto") -> str:
    """Map ``"auto"`` to a concrete backend and validate the name."""
    return resolve_choice(
        "scatter backend",
        backend,
        BACKENDS,
        "torch_scatter",
        "native",
        HAS_TORCH_SCATTER,
        "torch-scatter (pip install --no-build-isolation torch-scatter)",
        "backend",
    )


def _check(src: Tensor, index: Tensor, dim_size: int | None) -> int:
    if index.dim() != 1 or index.size(0) != src.size(0):
        raise ValueError(
            f"index must be 1-D with one entry per row of src; got index {tuple(index.shape)} "
            f"for src {tuple(src.shape)}"
        )
    if dim_size is None:
        dim_size = int(index.max()) + 1 if index.numel() > 0 else 0
    return dim_size


def _expand(index: Tensor, src: Tensor) -> Tensor:
    return index.view(-1, *([1] * (src.dim() - 1))).expand_as(src)


def scatter(
    src: Tensor,
    index: Tensor,
    dim_size: int | None = None,
    reduce: Reduce = "sum",
    backend: str = "auto",
) -> Tensor:
    r"""Reduce rows of ``src`` into groups given by ``index`` along dim 0.

    Empty groups give 0 for every reduction (as torch-scatter does).
    """
    dim_size = _check(src, index, dim_size)
    if reduce not in ("sum", "mean", "max", "min"):
        raise ValueError(f"unknown reduce {reduce!r}; choose sum, mean, max or min")
    if resolve_backend(backend) == "torch_scatter":
        import torch_scatter

        return torch_scatter.scatter(src, index, dim=0, dim_size=dim_size, reduce=reduce)

    shape = (dim_size, *src.shape[1:])
    if reduce == "sum":
        return src.new_zeros(shape).index_add_(0, index, src)
    if reduce == "mean":
        total = src.new_zeros(shape).index_add_(0, index, src)
        count = torch.bincount(index, minlength=dim_size).clamp_(min=1).to(src.dtype)
        return total / count.view(-1, *([1] * (src.dim() - 1)))
    amax_or_amin = "amax" if reduce == "max" else "amin"
    return src.new_zeros(shape).scatter_reduce_(0, _expand(index, src), src, reduce=amax_or_amin, include_self=False)


def scatter_log_softmax(src: Tensor, index: Tensor, dim_size: int | None = None, backend: str = "auto") -> Tensor:
    r"""Log-softmax of ``src`` within each group:
    :math:`\log \frac{\exp(s_i)}{\sum_{k:\,g_k = g_i} \exp(s_k)}`."""
    dim_size = _check(src, index, dim_size)
    if resolve_backend(backend) == "torch_scatter":
        import torch_scatter

        return torch_scatter.scatter_log_softmax(src, index, dim=0, dim_size=dim_size)
    group_max = scatter(src.detach(), index, dim_size, "max", backend="native")
    shifted = src - group_max[index]
    log_norm = scatter(shifted.exp(), index, dim_size, "sum", backend="native").log()
    return shifted - log_norm[index]


def scatter_softmax(src: Tensor, index: Tensor, dim_size: int | None = None, backend: str = "auto") -> Tensor:
    r"""Softmax of ``src`` within each group (see :func:`scatter_log_softmax`)."""
    if resolve_backend(backend) == "torch_scatter":
        import torch_scatter

        dim_size = _check(src, index, dim_size)
        return torch_scatter.scatter_softmax(src, index, dim=0, dim_size=dim_size)
    return scatter_log_softmax(src, index, dim_size, backend="native").exp()
