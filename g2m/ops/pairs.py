r"""Pairwise hinge over each group's entries, in bounded memory.

LLP's rank loss compares every pair of an anchor's contexts. With :math:`K` contexts per
anchor and :math:`A` anchors that is :math:`A K^2 / 2` pairs: Amazon Photo at LLP's recipe
(495 contexts, 7,650 anchors) has 0.9 billion. Plain autograd over chunks of pairs would keep
every chunk's masks and differences alive until the backward pass, so memory would grow with the
pairs. :func:`grouped_pair_hinge` is an autograd function that walks the groups once, a chunk
at a time, in its forward, and keeps one ``[G, K]`` tensor for the backward: a hinge's gradient
is :math:`\pm 1` in its two scores, so the gradient of the sum is a count of active hinges per
entry, and the sum itself follows from the same counts. The memory beside the operands is one
chunk of ``[groups, K, K]`` elements, whatever the number of pairs.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

#: groups x K x K elements one chunk of :func:`grouped_pair_hinge` holds at once (1 MiB a float
#: tensor: small enough for the CPU's caches and the allocator's reuse)
PAIR_CHUNK_ELEMENTS = 1 << 18


def _step(k: int, elements: int) -> int:
    return max(1, elements // max(k * k, 1))


def _active_counts(s: Tensor, t: Tensor, margin: float) -> tuple[Tensor, Tensor, Tensor]:
    r"""For one chunk of rows ``[B, K]``: per row the number of informative ordered pairs
    (:math:`t_m > t_n + \delta`), and per entry how many active hinges it is the upper member of
    (:math:`m`) and the lower member of (:math:`n`), active meaning also :math:`s_m - s_n < \delta`.
    Every informative pair appears once, in the order the teacher ranks it; padding (``t`` NaN) is
    in none. The ``[B, K, K]`` masks live only inside this call."""
    above = t[:, :, None] - t[:, None, :] > margin
    active = (s[:, :, None] - s[:, None, :] < margin).logical_and_(above)
    return above.sum((1, 2)), active.sum(2), active.sum(1)


class _GroupedPairHinge(torch.autograd.Function):
    # One walk over the pair blocks, in the forward. An active hinge max(0, margin - (s_m - s_n))
    # has gradient -1 in s_m and +1 in s_n, so the gradient is (lower - upper) counts and the sum
    # is sum_m upper_m (margin - s_m) + sum_n lower_n s_n: the backward keeps one [G, K] tensor.
    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, s: Tensor, t: Tensor, margin: float, chunk_elements: int
    ) -> tuple[Tensor, Tensor]:
        step = _step(s.size(1), chunk_elements)
        total, informative = s.new_zeros(()), torch.zeros((), dtype=torch.long, device=s.device)
        grad = torch.empty_like(s)
        for a in range(0, s.size(0), step):
            chunk = s[a : a + step]
            pairs, upper, lower = _active_counts(chunk, t[a : a + step], margin)
            informative += pairs.sum()
            total += ((margin - chunk) * upper + chunk * lower).sum()
            torch.sub(lower, upper, out=grad[a : a + step])
        ctx.save_for_backward(grad)
        ctx.mark_non_differentiable(informative)
        return total, informative

    @staticmethod
    def backward(ctx: Any, grad_total: Tensor, _grad_informative: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        (grad,) = ctx.saved_tensors
        return grad * grad_total, None, None, None


def grouped_pair_hinge(
    s: Tensor, t: Tensor, counts: Tensor, margin: float, chunk_elements: int = PAIR_CHUNK_ELEMENTS
) -> tuple[Tensor, Tensor]:
    r"""Sum of the pairwise hinges of every group, and the number of pairs that count.

    Row :math:`g` of ``s`` and ``t`` holds group :math:`g`'s student and teacher scores in its
    first ``counts[g]`` entries (the rest is padding). Over the pairs :math:`m < n` of a row whose
    teacher scores differ by more than ``margin`` (the informative pairs :math:`\mathcal{P}`), with
    :math:`r_{mn} = \mathrm{sign}(t_m - t_n)`:

    .. math:: \Big(\sum_{(m,n) \in \mathcal{P}} \max\big(0,\; \delta - r_{mn}(s_m - s_n)\big),
              \; |\mathcal{P}|\Big)

    Differentiable in ``s``; ``t`` is a constant. Memory beside the operands: one chunk of
    ``chunk_elements`` pair entries, in the forward; the backward reads one saved ``[G, K]`` tensor.

    Args:
        s: Student scores, padded per group.
        t: Teacher scores in the same layout.
        counts: Real entries per row.
        margin: :math:`\delta`, both the hinge's margin and the least teacher gap that counts.
        chunk_elements: Pair entries (groups x K x K) per chunk.

    Shapes:
        - **s**, **t**: :math:`[G, K]`; **counts**: :math:`[G]`
        - **output**: two scalars (the sum, float; the pair count, long)

    Example:
        >>> s = torch.tensor([[0.0, 1.0, 0.5]], requires_grad=True)
        >>> t = torch.tensor([[1.0, 0.0, 0.5]])
        >>> total, pairs = grouped_pair_hinge(s, t, torch.tensor([3]), margin=0.1)
        >>> round(total.detach().item(), 4), int(pairs)
        (2.3, 3)
        >>> total.backward()
        >>> s.grad
        tensor([[-2.,  2.,  0.]])
    """
    if s.shape != t.shape or s.dim() != 2:
        raise ValueError(f"s and t must be [G, K] of one shape, got {tuple(s.shape)} and {tuple(t.shape)}")
    if counts.shape != (s.size(0),):
        raise ValueError(f"counts must have one entry per row of s ({s.size(0)}), got {tuple(counts.shape)}")
    if chunk_elements < 1:
        raise ValueError(f"chunk_elements must be positive, got {chunk_elements}")
    real = torch.arange(s.size(1), device=s.device) < counts[:, None]
    t = torch.where(real, t.detach(), torch.nan)  # padding takes part in no pair
    return _GroupedPairHinge.apply(s, t, float(margin), int(chunk_elements))
