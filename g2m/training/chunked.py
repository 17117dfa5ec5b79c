r"""Backpropagate a loss over many node pairs a chunk of pairs at a time.

A link model's loss is a sum over pairs of one node-embedding table :math:`H`: every positive and
negative edge, every (anchor, context) pair of LLP. Scored in one piece, a step keeps each pair's
``[pairs, hidden]`` activations for the backward pass (Amazon Photo at LLP's recipe: 3.8 million
pairs, 3.9 GB per such tensor), and every elementwise pass over them runs from main memory.

:class:`ChunkedBackward` scores the pairs in chunks and backpropagates each chunk as soon as its
loss is known, into a detached copy of :math:`H` and the scorer's parameters; the gradient
gathered on that copy is then sent through the encoder once. The gradients are those of the
whole loss (summed in another order); the memory beside :math:`H` is one chunk's activations.

A chunk reads its rows of :math:`H` through :meth:`ChunkedBackward.pair_rows` (or
:meth:`ChunkedBackward.rows`), whose backward adds the chunk's row gradients into one
``[N, D]`` buffer: indexing :math:`H` itself would make autograd build a zero ``[N, D]`` gradient
for every chunk and then add it whole (at 200,000 nodes and 256 dimensions, 13 GB of memory
traffic for a batch of 65,536 edges, more than its arithmetic). The sums are taken in the order
autograd takes them (each end's rows accumulated from zero, the two ends added, the result added
to the buffer), so the gradient is the same to the last bit.

Example:
    >>> enc, scorer = torch.nn.Linear(3, 2), torch.nn.Linear(2, 1)
    >>> x, pairs = torch.randn(5, 3), torch.tensor([[0, 1, 2, 3], [4, 4, 0, 1]])
    >>> def pair_loss(h_u, h_v):  # the loss's share of some pairs, already divided by all pairs
    ...     return scorer(h_u * h_v).sum() / pairs.size(1)
    >>> chunked = ChunkedBackward(enc(x))
    >>> for a in range(0, 4, 2):  # two chunks of two pairs
    ...     _ = chunked.backward(pair_loss(*chunked.pair_rows(pairs[0, a : a + 2], pairs[1, a : a + 2])))
    >>> chunked.finish().backward()
    >>> grad = enc.weight.grad.clone(); enc.zero_grad(); scorer.zero_grad()
    >>> h = enc(x)
    >>> pair_loss(h[pairs[0]], h[pairs[1]]).backward()  # the same loss, in one piece
    >>> torch.allclose(grad, enc.weight.grad)
    True
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

#: pairs scored per chunk in a link training step: [pairs, 256] floats are 8 MiB, which the
#: allocator reuses from chunk to chunk (whole-batch tensors cost a page fault per page, each step)
PAIR_CHUNK = 1 << 13


class _Rows(torch.autograd.Function):
    """``h[i]`` for each index ``i`` (a pair's two ends, or one set of rows), whose backward adds
    their row gradients into ``grad`` (``[N, D]``) as autograd would (see the module), without an
    ``[N, D]`` temporary; ``h`` itself gets no gradient."""

    @staticmethod
    def forward(ctx: Any, h: Tensor, grad: Tensor, *index: Tensor) -> tuple[Tensor, ...]:  # type: ignore[override]
        ctx.save_for_backward(*index)
        ctx.grad = grad
        return tuple(h[i] for i in index)

    @staticmethod
    def backward(ctx: Any, *row_grads: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        index = ctx.saved_tensors
        rows, inverse = torch.unique(torch.cat(index), return_inverse=True)
        total: Tensor | None = None
        start = 0
        for i, g in zip(index, row_grads):
            where = inverse[start : start + i.numel()]
            start += i.numel()
            if g is None:
                continue
            part = g.new_zeros(rows.numel(), g.size(1)).index_put_((where,), g, accumulate=True)
            total = part if total is None else total + part
        if total is not None:
            ctx.grad.index_add_(0, rows, total)
        return (None, None, *(None for _ in index))


class ChunkedBackward:
    """Gathers the gradient of a sum of losses on :attr:`h`, a detached copy of ``h``.

    Each loss given to :meth:`backward` is backpropagated at once (into the rows it read through
    :meth:`pair_rows` or :meth:`rows`, and any parameter it used); :meth:`finish` returns a
    scalar whose value is the losses' sum and whose backward sends the gathered gradient through
    ``h``'s own graph (the encoder)."""

    def __init__(self, h: Tensor) -> None:
        self._h = h
        self.h = h.detach().requires_grad_(h.requires_grad)
        self._grad: Tensor | None = None
        self._total = h.new_zeros(())

    def pair_rows(self, u: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """``(h[u], h[v])``, the two ends of a chunk's pairs, differentiable into the gathered
        gradient (one gather per loss, as autograd adds the two ends' gradients before the rest)."""
        h_u, h_v = self._gather(u, v)
        return h_u, h_v

    def rows(self, index: Tensor) -> Tensor:
        """``h[index]``, differentiable into the gathered gradient."""
        return self._gather(index)[0]

    def _gather(self, *index: Tensor) -> tuple[Tensor, ...]:
        if not self._h.requires_grad:
            return tuple(self.h[i] for i in index)
        if self._grad is None:
            self._grad = torch.zeros_like(self.h)
        return _Rows.apply(self.h, self._grad, *index)  # self.h requires grad: autograd calls the backward

    def backward(self, loss: Tensor) -> Tensor:
        """Backpropagate ``loss`` now; returns it detached."""
        if loss.requires_grad:
            loss.backward()
        loss = loss.detach()
        self._total += loss
        return loss

    def finish(self) -> Tensor:
        """The sum of the losses, differentiable in the original ``h``."""
        if not self._h.requires_grad:
            return self._total
        grads = [g for g in (self._grad, self.h.grad) if g is not None]  # h.grad: a loss that indexed h itself
        if not grads:  # no loss used the embeddings
            return self._total + self._h.sum() * 0.0
        link = (self._h * (grads[0] if len(grads) == 1 else grads[0] + grads[1])).sum()
        return self._total + (link - link.detach())
