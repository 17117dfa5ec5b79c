"""g2m.losses.tokens: VQGraph's adjacency reconstruction (closed form, no [N, N] matrix) and code
assignment distillation, each against a dense reference, values and gradients."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from g2m.losses.tokens import code_similarities, edge_reconstruction_loss, token_kd_loss


def _dense_edge_loss(z, edge_index):
    """The official computation: dense A and min-max normalised Z Z^T."""
    n = z.size(0)
    adj = torch.zeros(n, n, dtype=z.dtype)
    adj[edge_index[0], edge_index[1]] = 1.0
    s = z @ z.t()
    s = (s - s.min()) / (s.max() - s.min())
    return torch.sqrt(F.mse_loss(adj, s))


def _graph(n, gen):
    src = torch.randint(0, n, (3 * n,), generator=gen)
    dst = torch.randint(0, n, (3 * n,), generator=gen)
    loops = torch.arange(n)
    edges = torch.cat([torch.stack([src, dst]), torch.stack([dst, src]), torch.stack([loops, loops])], 1)
    return torch.unique(edges, dim=1)  # each nonzero once, self-loops included


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 24), d=st.integers(1, 24), block=st.integers(1, 30), seed=st.integers(0, 10_000))
def test_edge_reconstruction_equals_the_dense_official_loss(n, d, block, seed):
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, d, generator=gen, dtype=torch.float64, requires_grad=True)
    edges = _graph(n, gen)
    expected = _dense_edge_loss(z, edges)
    (expected_grad,) = torch.autograd.grad(expected, z)
    value = edge_reconstruction_loss(z, edges, block_rows=block)
    (grad,) = torch.autograd.grad(value, z)
    torch.testing.assert_close(value, expected)
    torch.testing.assert_close(grad, expected_grad)


def test_edge_reconstruction_is_zero_when_the_codes_reproduce_the_adjacency():
    # two cliques of orthogonal unit codes: Z Z^T is A exactly (min 0, max 1)
    z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    edges = torch.tensor([[0, 0, 1, 1, 2, 2, 3, 3], [0, 1, 0, 1, 2, 3, 2, 3]])
    assert float(edge_reconstruction_loss(z, edges)) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match=r"\[2, E\]"):
        edge_reconstruction_loss(z, edges[0])


def test_token_kd_is_the_tempered_kl_between_code_distributions():
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(5, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    codebook = torch.randn(7, 3, generator=gen, dtype=torch.float64)
    teacher = code_similarities(torch.randn(5, 3, generator=gen, dtype=torch.float64), codebook)
    tau = 4.0
    value = token_kd_loss(z, codebook, teacher, tau)
    dist = ((z[:, None, :] - codebook[None]) ** 2).sum(-1).sqrt()
    p = (teacher / tau).softmax(-1)
    log_q = (-dist / tau).log_softmax(-1)
    expected = (p * (p.log() - log_q)).sum(-1).mean() * tau * tau
    torch.testing.assert_close(value, expected)
    torch.testing.assert_close(torch.autograd.grad(value, z)[0], torch.autograd.grad(expected, z)[0])
    with pytest.raises(ValueError, match=r"\[B, K\]"):
        token_kd_loss(z, codebook, teacher[:, :3], tau)


def test_code_similarities_are_cosines():
    h = torch.tensor([[2.0, 0.0], [1.0, 1.0]])
    codes = torch.tensor([[1.0, 0.0], [0.0, 3.0]])
    torch.testing.assert_close(code_similarities(h, codes), torch.tensor([[1.0, 0.0], [0.5**0.5, 0.5**0.5]]))
