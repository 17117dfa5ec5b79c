"""The sparse full-graph operands (CSR adjacency, CSR features) against the edge_index path."""

import warnings

import pytest
import torch
from torch_geometric.utils import coalesce, to_undirected

from g2m.ops.sparse import csr_adjacency, dropout, is_sparse, sparse_features
from g2m.students.mlp import MLP
from g2m.teachers.models import build_teacher


def _graph(n: int = 40, m: int = 160, f: int = 24, density: float = 0.08, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, m), generator=gen)
    ei = coalesce(to_undirected(ei[:, ei[0] != ei[1]]), num_nodes=n)
    x = (torch.rand(n, f, generator=gen) < density).float() * torch.rand(n, f, generator=gen)
    return x, ei


def test_csr_adjacency_is_a_transpose_and_rejects_bad_shapes():
    ei = torch.tensor([[0, 0, 2], [1, 2, 1]])  # 0->1, 0->2, 2->1
    adj = csr_adjacency(ei, 3).to_dense()
    assert adj.tolist() == [[0, 0, 0], [1, 0, 1], [1, 0, 0]]  # row i: sources of edges into i
    with pytest.raises(ValueError, match=r"shape \[2, E\]"):
        csr_adjacency(ei.t(), 3)


def test_sparse_features_only_when_sparse_enough():
    x, _ = _graph(density=0.05)
    xs = sparse_features(x)
    assert is_sparse(xs) and torch.equal(xs.to_dense(), x)
    dense = torch.ones(5, 4)
    assert sparse_features(dense) is dense
    assert sparse_features(x, max_density=0.0) is x


def test_sparse_dropout_keeps_zeros_and_scales_survivors():
    torch.manual_seed(0)
    x = sparse_features(torch.eye(200) * 3.0)
    out = dropout(x, 0.5, training=True).to_dense()
    off_diag = out[~torch.eye(200, dtype=torch.bool)]
    assert torch.count_nonzero(off_diag) == 0
    kept = out.diagonal()
    assert set(kept.unique().tolist()) <= {0.0, 6.0}
    assert 60 < int((kept > 0).sum()) < 140
    assert dropout(x, 0.5, training=False) is x


@pytest.mark.parametrize(
    "kind,aggr", [("gcn", "mean"), ("sage", "mean"), ("sage", "gcn"), ("gat", "mean"), ("appnp", "mean")]
)
def test_sparse_operands_give_the_edge_index_outputs_and_gradients(kind, aggr):
    x, ei = _graph()
    torch.manual_seed(1)
    model = build_teacher(kind, x.size(1), 3, hidden=8, num_layers=2, dropout=0.0, sage_aggr=aggr)
    ref = model(x, ei)
    (ref**2).sum().backward()
    ref_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no beta-state warning reaches the user
        adj, xs = model.adjacency(ei, x.size(0)), sparse_features(x)
        out = model(xs, adj)
    assert is_sparse(adj) == (kind != "gat") and is_sparse(xs)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    (out**2).sum().backward()
    for p, g in zip(model.parameters(), ref_grads):
        torch.testing.assert_close(p.grad, g, rtol=1e-4, atol=1e-5)
    _, hidden = model(xs, adj, return_hidden=True)
    assert not is_sparse(hidden) and hidden.shape == (x.size(0), 8)


def test_mlp_takes_csr_features():
    x, _ = _graph()
    torch.manual_seed(0)
    mlp = MLP(x.size(1), 3, hidden=8, num_layers=2).eval()
    torch.testing.assert_close(mlp(sparse_features(x)), mlp(x), rtol=1e-5, atol=1e-6)
