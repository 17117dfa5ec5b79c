import os

import pytest
import torch

from g2m.ops import HAS_TORCH_SCATTER, resolve_backend, scatter, scatter_log_softmax, scatter_softmax

REQUIRE_TS = os.environ.get("G2M_REQUIRE_TORCH_SCATTER") == "1"
backends = ["native"]
if HAS_TORCH_SCATTER or REQUIRE_TS:
    backends.append("torch_scatter")


def dense_reduce(src, index, n, reduce):
    out = []
    for g in range(n):
        rows = src[index == g]
        if rows.numel() == 0:
            out.append(torch.zeros(src.shape[1:]))
        elif reduce == "sum":
            out.append(rows.sum(0))
        elif reduce == "mean":
            out.append(rows.mean(0))
        elif reduce == "max":
            out.append(rows.max(0).values)
        else:
            out.append(rows.min(0).values)
    return torch.stack(out)


def test_torch_scatter_present_when_required():
    # `make test` builds torch-scatter and sets G2M_REQUIRE_TORCH_SCATTER=1 so that
    # both backends really are compared; without it, this only checks consistency.
    assert HAS_TORCH_SCATTER or not REQUIRE_TS


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min"])
def test_scatter_matches_dense(backend, reduce):
    src = torch.randn(40, 3)
    index = torch.randint(0, 6, (40,))
    index[index == 5] = 4  # group 5 left empty on purpose
    out = scatter(src, index, 6, reduce, backend=backend)
    torch.testing.assert_close(out, dense_reduce(src, index, 6, reduce))


@pytest.mark.parametrize("backend", backends)
def test_group_softmax_matches_dense(backend):
    src = torch.randn(30, requires_grad=True)
    index = torch.randint(0, 5, (30,))
    out = scatter_log_softmax(src, index, 5, backend=backend)
    ref = torch.empty(30)
    for g in range(5):
        m = index == g
        ref[m] = torch.log_softmax(src.detach()[m], 0)
    torch.testing.assert_close(out.detach(), ref)
    torch.testing.assert_close(scatter_softmax(src, index, 5, backend=backend).detach(), ref.exp())
    # each group's softmax sums to one
    sums = scatter(scatter_softmax(src, index, 5, backend=backend), index, 5)
    torch.testing.assert_close(
        sums[torch.bincount(index, minlength=5) > 0], torch.ones(int((torch.bincount(index, minlength=5) > 0).sum()))
    )


@pytest.mark.skipif(not HAS_TORCH_SCATTER, reason="torch-scatter not installed")
def test_backends_agree_with_gradients():
    src = torch.randn(200, 4, dtype=torch.float64)
    index = torch.randint(0, 17, (200,))
    grads = {}
    for backend in ("native", "torch_scatter"):
        s = src.clone().requires_grad_()
        out = scatter(s, index, 17, "mean", backend=backend).pow(2).sum()
        out = out + scatter_log_softmax(s[:, 0], index, 17, backend=backend).sum()
        out.backward()
        grads[backend] = (out.detach(), s.grad)
    torch.testing.assert_close(grads["native"][0], grads["torch_scatter"][0])
    torch.testing.assert_close(grads["native"][1], grads["torch_scatter"][1])


def test_bad_backend_and_shapes_raise():
    with pytest.raises(ValueError, match="unknown scatter backend"):
        resolve_backend("cuda-magic")
    with pytest.raises(ValueError, match="one entry per row"):
        scatter(torch.randn(4, 2), torch.zeros(3, dtype=torch.long), 2)
    with pytest.raises(ValueError, match="unknown reduce"):
        scatter(torch.randn(4), torch.zeros(4, dtype=torch.long), 1, "median")
