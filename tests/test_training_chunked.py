"""ChunkedBackward's row gathers: the gradient gathered a chunk at a time, without an [N, D]
temporary per chunk, is the gradient autograd gives by indexing the embeddings, to the last bit."""

import pytest
import torch

from g2m.training.chunked import ChunkedBackward


def _indexed(h0: torch.Tensor, chunks, repr_rows: torch.Tensor) -> torch.Tensor:
    """The gradient on h0 when each chunk's loss indexes h0 itself (autograd's IndexBackward)."""
    h = h0.detach().requires_grad_(True)
    for u, v, w in chunks:
        (((h[u] * h[v]).sum(-1) * w).sum()).backward()
    (h[repr_rows] ** 2).sum().backward()
    return h.grad


def _gathered(h0: torch.Tensor, chunks, repr_rows: torch.Tensor) -> torch.Tensor:
    leaf = h0.detach().requires_grad_(True)
    chunked = ChunkedBackward(leaf * 1.0)
    for u, v, w in chunks:
        h_u, h_v = chunked.pair_rows(u, v)
        chunked.backward(((h_u * h_v).sum(-1) * w).sum())
    chunked.backward((chunked.rows(repr_rows) ** 2).sum())
    chunked.finish().backward()
    return leaf.grad


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_row_gathers_give_autograds_gradient_bit_for_bit(seed):
    gen = torch.Generator().manual_seed(seed)
    n, d = 50, 7
    h0 = torch.randn(n, d, generator=gen)
    chunks = []
    for size in (64, 1, 33):  # rows repeated within an end and across the two ends, one pair alone
        u, v = torch.randint(n, (size,), generator=gen), torch.randint(n, (size,), generator=gen)
        v[: size // 3] = u[: size // 3]  # self-pairs: a row in both ends of one pair
        chunks.append((u, v, torch.randn(size, generator=gen)))
    repr_rows = torch.randint(n, (20,), generator=gen)
    assert torch.equal(_gathered(h0, chunks, repr_rows), _indexed(h0, chunks, repr_rows))


def test_no_gather_no_gradient_and_no_grad_embeddings_pass_through():
    h = torch.randn(5, 3, requires_grad=True)
    chunked = ChunkedBackward(h * 2.0)
    total = chunked.finish()
    total.backward()
    assert torch.equal(h.grad, torch.zeros(5, 3))  # the encoder still gets a (zero) gradient
    frozen = ChunkedBackward(torch.randn(5, 3))
    rows = frozen.rows(torch.tensor([0, 0, 4]))
    assert not rows.requires_grad and rows.shape == (3, 3)
