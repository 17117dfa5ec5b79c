"""Small building blocks shared by teachers and students."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from g2m.methods import NORMS  # noqa: E402  (declared with the other names)


def make_norm(kind: str, dim: int) -> nn.Module:
    """``none`` | ``batch`` (BatchNorm1d) | ``layer`` (LayerNorm) over ``dim`` features."""
    if kind not in NORMS:
        raise ValueError(f"unknown norm {kind!r}; choose one of {NORMS}")
    if kind == "none":
        return nn.Identity()
    return nn.BatchNorm1d(dim) if kind == "batch" else nn.LayerNorm(dim)


def renamed_prefix(old: str, new: str) -> Callable[..., None]:
    """A ``register_load_state_dict_pre_hook`` hook that reads a state dict whose keys start with
    ``old`` (relative to the module) as if they started with ``new``: a module whose submodules
    were renamed still loads what was saved before (students, checkpoints)."""

    def hook(module: nn.Module, state_dict: dict[str, Tensor], prefix: str, *args: Any) -> None:
        for key in [k for k in state_dict if k.startswith(prefix + old)]:
            state_dict[prefix + new + key[len(prefix + old) :]] = state_dict.pop(key)

    return hook


def threshold_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Inverted dropout, ``x * (U >= p) / (1 - p)`` with ``U ~ Uniform[0, 1)`` per entry.

    The same distribution as ``torch.nn.functional.dropout`` (each entry kept with
    probability ``1 - p``), drawn from a uniform tensor instead of a Bernoulli one: about
    2x faster on CPU (24,576 x 256 floats, one thread: 50-65 ms against 130 ms), which
    matters for LLP's scorer, run on every (anchor, context) pair each step.
    """
    if not training or p == 0.0:
        return x
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout rate must be in [0, 1), got {p}")
    return x * torch.rand_like(x).ge_(p).mul_(1.0 / (1.0 - p))  # the uniforms become the scaled mask in place


SCORERS = ("dot", "mlp")


class LinkScorer(nn.Module):
    r"""The scorer of a link predictor: two node embeddings to a logit, ``dot``:
    :math:`h_u^\top h_v`, or ``mlp``: :math:`\mathrm{MLP}(h_u \odot h_v)` (one hidden layer, with
    ``dropout`` after its ReLU while training, as LLP's predictor). Teachers and students share it.
    """

    def __init__(self, kind: str, dim: int, hidden: int | None = None, dropout: float = 0.0) -> None:
        super().__init__()
        if kind not in SCORERS:
            raise ValueError(f"unknown scorer {kind!r}; choose one of {SCORERS}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"scorer dropout must be in [0, 1), got {dropout}")
        self.kind, self.dim, self.dropout = kind, dim, dropout
        self.hidden = hidden or dim
        self.mlp = (
            nn.Sequential(nn.Linear(dim, self.hidden), nn.ReLU(), nn.Linear(self.hidden, 1)) if kind == "mlp" else None
        )

    def forward(self, h_u: Tensor, h_v: Tensor, dropout: float | None = None) -> Tensor:
        """Scores of the pairs ``(h_u[k], h_v[k])``. ``dropout``: a rate applied even in
        eval mode (None: the scorer's own rate, in training mode only)."""
        if self.mlp is None:
            return (h_u * h_v).sum(-1)
        rate, active = (self.dropout, self.training) if dropout is None else (dropout, dropout > 0)
        # in place: the linear layer's backward does not read its output (saves a [pairs, hidden] pass)
        hidden = threshold_dropout(torch.relu_(self.mlp[0](h_u * h_v)), rate, active)
        return self.mlp[2](hidden).squeeze(-1)

    def score_pairs(self, h: Tensor, pairs: Tensor, dropout: float | None = None) -> Tensor:
        """Scores of ``pairs`` (``[2, K]``) from node embeddings ``h``."""
        return self(h[pairs[0]], h[pairs[1]], dropout)
