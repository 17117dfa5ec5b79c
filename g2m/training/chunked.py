r"""Backpropagate a loss over many node pairs a chunk of pairs at a time.

A link model's loss is a sum over pairs of one node-embedding table :math:`H`: every positive and
negative edge, every (anchor, context) pair of LLP. Scored in one piece, a step keeps each pair's
``[pairs, hidden]`` activations for the backward pass (Amazon Photo at LLP's recipe: 3.8 million
pairs, 3.9 GB per such tensor), and every elementwise pass over them runs from main memory.

:class:`ChunkedBackward` scores the pairs in chunks and backpropagates each chunk as soon as its
loss is known, into a detached copy of :math:`H` and the scorer's parameters; the gradient
gathered on that copy is then sent through the encoder once. The gradients are those of the
whole loss (summed in another order); the memory beside :math:`H` is one chunk's activations.

Example:
    >>> enc, scorer = torch.nn.Linear(3, 2), torch.nn.Linear(2, 1)
    >>> x, pairs = torch.randn(5, 3), torch.tensor([[0, 1, 2, 3], [4, 4, 0, 1]])
    >>> def pair_loss(h, cols):  # the loss's share of the pairs `cols`, already divided by all pairs
    ...     return scorer(h[pairs[0, cols]] * h[pairs[1, cols]]).sum() / pairs.size(1)
    >>> chunked = ChunkedBackward(enc(x))
    >>> for a in range(0, 4, 2):  # two chunks of two pairs
    ...     _ = chunked.backward(pair_loss(chunked.h, slice(a, a + 2)))
    >>> chunked.finish().backward()
    >>> grad = enc.weight.grad.clone(); enc.zero_grad(); scorer.zero_grad()
    >>> pair_loss(enc(x), slice(0, 4)).backward()  # the same loss, in one piece
    >>> torch.allclose(grad, enc.weight.grad)
    True
"""

from __future__ import annotations

import torch  # noqa: F401  (the Example above uses it)
from torch import Tensor

#: pairs scored per chunk in a link training step: [pairs, 256] floats are 8 MiB, which the
#: allocator reuses from chunk to chunk (whole-batch tensors cost a page fault per page, each step)
PAIR_CHUNK = 1 << 13


class ChunkedBackward:
    """Gathers the gradient of a sum of losses on :attr:`h`, a detached copy of ``h``.

    Each loss given to :meth:`backward` is backpropagated at once (into :attr:`h` and any
    parameter it used); :meth:`finish` returns a scalar whose value is the losses' sum and whose
    backward sends the gathered gradient through ``h``'s own graph (the encoder)."""

    def __init__(self, h: Tensor) -> None:
        self._h = h
        self.h = h.detach().requires_grad_(h.requires_grad)
        self._total = h.new_zeros(())

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
        if self.h.grad is None:  # no loss used the embeddings
            return self._total + self._h.sum() * 0.0
        link = (self._h * self.h.grad).sum()
        return self._total + (link - link.detach())
