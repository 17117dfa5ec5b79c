import pytest
import torch

from g2m.config import TeacherConfig
from g2m.data import load_dataset, make_node_split
from g2m.teachers import build_teacher
from g2m.training.node_teacher import train_node_teacher

GRAPH = dict(num_nodes=800, num_classes=4, avg_degree=8, homophily=0.9, feature_signal=1.0, num_features=16)


@pytest.mark.parametrize("kind,extra", [("gcn", {}), ("sage", {}), ("gat", {"heads": 4}), ("appnp", {})])
def test_every_teacher_learns(kind, extra):
    g = load_dataset("csbm", **GRAPH)
    split = make_node_split(g, "random", seed=0)
    out = train_node_teacher(
        g, split, TeacherConfig(model=kind, hidden=16, epochs=40, patience=40, **extra), seed=0, progress=False
    )
    assert out.scores["test"] > 0.25 + 0.4
    assert out.logits.shape == (g.num_nodes, 4) and out.hidden.shape == (g.num_nodes, 16)


@pytest.mark.parametrize("norm", ["none", "batch", "layer"])
@pytest.mark.parametrize("layers", [1, 3])
def test_depth_and_norm(norm, layers):
    x, ei = torch.randn(10, 5), torch.tensor([[0, 1, 2], [1, 2, 3]])
    model = build_teacher("sage", 5, 3, hidden=8, num_layers=layers, norm=norm).eval()
    logits, hidden = model(x, ei, return_hidden=True)
    assert logits.shape == (10, 3) and hidden.shape == (10, 5 if layers == 1 else 8)


def test_bad_teacher_args():
    with pytest.raises(ValueError, match="unknown teacher"):
        build_teacher("gin", 4, 2)
    with pytest.raises(ValueError, match="divisible by heads"):
        build_teacher("gat", 4, 2, hidden=10, heads=4)
    with pytest.raises(ValueError, match="unknown norm"):
        build_teacher("gcn", 4, 2, norm="group")


def test_sage_gcn_aggregator_matches_dense_reference():
    # DGL's gcn aggregator (GLNN / FF-G2M teachers): W * mean over N(i) and i itself, plus bias
    torch.manual_seed(0)
    n = 7
    ei = torch.tensor([[0, 1, 1, 2, 3, 5], [1, 0, 2, 1, 5, 3]])
    x = torch.randn(n, 4)
    model = build_teacher("sage", 4, 3, num_layers=1, sage_aggr="gcn").eval()
    a = torch.eye(n)
    a[ei[1], ei[0]] = 1.0
    lin = model.convs[0].lin_l
    expected = lin((a / a.sum(1, keepdim=True)) @ x)
    torch.testing.assert_close(model(x, ei), expected)
    assert not hasattr(model.convs[0], "lin_r")  # no separate root weight
    with pytest.raises(ValueError, match="sage_aggr"):
        build_teacher("sage", 4, 3, sage_aggr="max")


def test_input_dropout_separate_from_hidden_dropout():
    x, ei = torch.ones(50, 6), torch.tensor([[0, 1], [1, 0]])
    torch.manual_seed(0)
    keep_input = build_teacher("gcn", 6, 2, num_layers=1, dropout=0.9, input_dropout=0.0).train()
    # one layer: only the input is dropped out, so with input_dropout 0 training is deterministic
    torch.testing.assert_close(keep_input(x, ei), keep_input(x, ei))
    classic = build_teacher("gcn", 6, 2, num_layers=1, dropout=0.9).train()  # None: as `dropout`
    assert not torch.equal(classic(x, ei), classic(x, ei))


def test_threshold_dropout_has_dropouts_distribution():
    from g2m.layers import threshold_dropout

    torch.manual_seed(0)
    x = torch.full((400, 500), 2.0)
    y = threshold_dropout(x, 0.3, True)
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.7) < 0.005  # each entry kept with probability 1 - p
    assert torch.allclose(y[kept], torch.tensor(2.0 / 0.7))  # survivors scaled by 1 / (1 - p)
    assert abs(y.mean().item() - 2.0) < 0.02  # unbiased
    assert threshold_dropout(x, 0.3, False) is x and threshold_dropout(x, 0.0, True) is x
    with pytest.raises(ValueError, match="dropout rate"):
        threshold_dropout(x, 1.0, True)


@pytest.mark.parametrize(
    "kind,extra", [("gcn", {"norm": "batch"}), ("sage", {}), ("sage", {"sage_aggr": "gcn"}), ("gat", {}), ("appnp", {})]
)
@pytest.mark.parametrize("sparse", [False, True])
def test_sharded_inference_equals_the_full_graph_forward(kind, extra, sparse):
    """Layer-wise inference by node ranges (one process: one range) gives the forward pass's
    logits and hidden layer, with dense and CSR features."""
    from g2m.ops.sparse import sparse_features
    from g2m.teachers.inference import sharded_inference

    g = load_dataset("csbm", num_nodes=300, num_features=40)
    torch.manual_seed(0)
    model = build_teacher(kind, g.num_features, g.num_classes, hidden=32, num_layers=3, **extra).eval()
    if "norm" in extra:  # running statistics that are not the identity
        model.norms[0].running_mean.normal_()
        model.norms[0].running_var.uniform_(0.5, 2.0)
    x = torch.relu(g.x)  # some zeros, so that CSR features hold fewer entries
    with torch.no_grad():
        want = model(x, g.edge_index, return_hidden=True)
    got = sharded_inference(model, sparse_features(x, max_density=1.0) if sparse else x, g.edge_index)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
