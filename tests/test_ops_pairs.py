"""grouped_pair_hinge against a dense autograd reference: values, gradients, chunking, memory."""

import pytest
import torch

from g2m.ops.pairs import grouped_pair_hinge


def dense_reference(s, t, counts, margin):
    k = s.size(1)
    real = torch.arange(k) < counts[:, None]
    dt = t[:, :, None] - t[:, None, :]
    valid = torch.ones(k, k, dtype=torch.bool).triu(1) & real[:, :, None] & real[:, None, :] & (dt.abs() > margin)
    hinge = torch.relu(margin - torch.sign(dt) * (s[:, :, None] - s[:, None, :]))
    return (hinge * valid).sum(), valid.sum()


def operands(seed, groups=6, k=9):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(groups, k, generator=g, dtype=torch.float64)
    t = torch.randn(groups, k, generator=g, dtype=torch.float64)
    counts = torch.randint(0, k + 1, (groups,), generator=g)
    return s, t, counts


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("margin", [0.0, 0.3])
@pytest.mark.parametrize("chunk", [1, 81, 200, 1 << 20])  # 81 = one group of 9 x 9 per chunk
def test_matches_dense_reference(seed, margin, chunk):
    s, t, counts = operands(seed)
    a = s.clone().requires_grad_()
    total, pairs = grouped_pair_hinge(a, t, counts, margin, chunk)
    total.backward()
    b = s.clone().requires_grad_()
    ref_total, ref_pairs = dense_reference(b, t, counts, margin)
    ref_total.backward()
    torch.testing.assert_close(total, ref_total)
    assert int(pairs) == int(ref_pairs)
    torch.testing.assert_close(a.grad, b.grad)


def test_gradcheck():
    s, t, counts = operands(3, groups=3, k=5)
    s = s.requires_grad_()
    assert torch.autograd.gradcheck(lambda x: grouped_pair_hinge(x, t, counts, 0.2, 25)[0], (s,))


def test_keeps_no_pair_tensor_for_the_backward():
    # plain autograd over chunks keeps every chunk's [B, K, K] masks until the backward, so its memory
    # grows with the pairs; this function keeps only its [G, K] operands
    s, t, counts = operands(0, groups=40, k=30)
    s.requires_grad_()
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda x: saved.append(x.numel()) or x, lambda x: x):
        total, _ = grouped_pair_hinge(s, t, counts, 0.1, 900)
    assert saved and max(saved) <= s.numel()
    total.backward()
    assert s.grad is not None and s.grad.abs().sum() > 0


def test_refuses_mismatched_operands():
    s, t, counts = operands(0)
    with pytest.raises(ValueError, match="one shape"):
        grouped_pair_hinge(s, t[:, :3], counts, 0.1)
    with pytest.raises(ValueError, match="one entry per row"):
        grouped_pair_hinge(s, t, counts[:2], 0.1)
    with pytest.raises(ValueError, match="chunk_elements"):
        grouped_pair_hinge(s, t, counts, 0.1, 0)
