import pytest
import torch

from g2m.data import load_dataset, make_link_split, make_node_split
from g2m.errors import SplitError


@pytest.fixture(scope="module")
def csbm():
    return load_dataset("csbm", num_nodes=2000, num_classes=4, avg_degree=8, seed=0)


def _disjoint(*parts):
    cat = torch.cat(parts)
    return cat.unique().numel() == cat.numel()


@pytest.mark.parametrize("setting", ["transductive", "inductive"])
def test_random_split_disjoint_covering_reproducible(csbm, setting):
    s = make_node_split(csbm, "random", setting, seed=3)
    assert _disjoint(s.train, s.val, s.test, s.test_ind)
    assert s.train.numel() + s.val.numel() + s.test.numel() + s.test_ind.numel() == csbm.num_nodes
    assert torch.bincount(csbm.y[s.train]).tolist() == [20] * 4
    assert torch.bincount(csbm.y[s.val]).tolist() == [30] * 4
    again = make_node_split(csbm, "random", setting, seed=3)
    other = make_node_split(csbm, "random", setting, seed=4)
    assert again.key() == s.key() and other.key() != s.key()


def test_inductive_holds_out_fraction_and_leaks_no_edge(csbm):
    t = make_node_split(csbm, "random", "transductive", seed=1)
    s = make_node_split(csbm, "random", "inductive", seed=1, inductive_fraction=0.2)
    assert s.test_ind.numel() == round(0.2 * t.test.numel())
    assert torch.equal(torch.cat([s.test, s.test_ind]).sort().values, t.test)
    obs = s.observed_edges(csbm.edge_index)
    held = set(s.test_ind.tolist())
    assert not any(u in held or v in held for u, v in obs.t().tolist())
    # every edge among observed nodes is kept
    keep = torch.ones(csbm.num_nodes, dtype=torch.bool)
    keep[s.test_ind] = False
    assert obs.size(1) == int((keep[csbm.edge_index[0]] & keep[csbm.edge_index[1]]).sum())
    assert _disjoint(s.observed, s.test_ind)


def test_public_split_cora(data_root):
    g = load_dataset("cora", data_root)
    s = make_node_split(g, "public")
    assert (s.train.numel(), s.val.numel(), s.test.numel()) == (140, 500, 1000)
    i = make_node_split(g, "public", "inductive", seed=0)
    assert (i.test.numel(), i.test_ind.numel()) == (800, 200)


def test_fixed_splits_indexed_by_seed(data_root):
    g = load_dataset("texas", data_root)
    a, b = make_node_split(g, "fixed", seed=0), make_node_split(g, "fixed", seed=1)
    assert _disjoint(a.train, a.val, a.test) and a.key() != b.key()
    assert torch.equal(make_node_split(g, "fixed", seed=10).train, a.train)  # 10 splits: 10 % 10 == 0


def test_split_errors(csbm):
    with pytest.raises(SplitError, match="unknown split"):
        make_node_split(csbm, "geom")
    with pytest.raises(SplitError, match="unknown setting"):
        make_node_split(csbm, "random", "semi")
    with pytest.raises(SplitError, match=r"inductive_fraction must be in \(0, 1\)"):
        make_node_split(csbm, "random", "inductive", inductive_fraction=1.5)
    with pytest.raises(SplitError, match="no public split"):
        make_node_split(csbm, "public")
    with pytest.raises(SplitError, match="fewer than"):
        make_node_split(csbm, "random", train_per_class=600)
    with pytest.raises(SplitError, match="fraction"):
        make_link_split(csbm, "transductive", val_fraction=0.0)
    with pytest.raises(SplitError, match="no official link split"):
        make_link_split(csbm, "ogb")
    with pytest.raises(SplitError, match="link split seed must be non-negative, got -1"):
        make_link_split(csbm, "production", seed=-1)


def _ids(e, n):
    return set((torch.minimum(e[0], e[1]) * n + torch.maximum(e[0], e[1])).tolist())


def test_transductive_link_split(csbm):
    s = make_link_split(csbm, "transductive", seed=0)
    n = csbm.num_nodes
    total = csbm.num_edges // 2
    tr, va, te = _ids(s.train_pos, n), _ids(s.val_pos, n), _ids(s.test_pos, n)
    assert not (tr & va) and not (tr & te) and not (va & te)
    assert len(tr) + len(va) + len(te) == total
    assert abs(len(te) / total - 0.10) < 0.01 and abs(len(va) / total - 0.05) < 0.01
    all_edges = _ids(csbm.edge_index, n)
    for neg in (s.val_neg, s.test_neg):
        assert not (_ids(neg, n) & all_edges) and (neg[0] != neg[1]).all()
    assert s.test_neg.size(1) == s.test_pos.size(1)
    assert make_link_split(csbm, "transductive", seed=0).key() == s.key()
    assert make_link_split(csbm, "transductive", seed=1).key() != s.key()


def test_production_link_split_hides_new_nodes(csbm):
    s = make_link_split(csbm, "production", seed=0, held_out_fraction=0.1)
    held = torch.zeros(csbm.num_nodes, dtype=torch.bool)
    held[s.held_out] = True
    assert s.held_out.numel() == 200
    msg = s.message_edge_index
    assert not (held[msg[0]] | held[msg[1]]).any(), "no held-out node may appear in training edges"
    assert not (held[s.val_pos[0]] | held[s.val_pos[1]]).any()
    assert (held[s.test_pos[0]] | held[s.test_pos[1]]).all()
    assert held[s.test_neg[0]].all()


def test_glnn_protocol_on_largest_component(data_root):
    from g2m.data.splits import protocol_graph

    cora = load_dataset("cora", data_root)
    lcc = protocol_graph(cora, "glnn")
    # GLNN's Table 6 (CPF data): Cora 2,485 nodes and 5,069 undirected edges
    assert (lcc.num_nodes, lcc.num_edges) == (2485, 2 * 5069)
    assert protocol_graph(cora, "public") is cora
    s = make_node_split(lcc, "glnn", seed=0)
    assert torch.bincount(lcc.y[s.train]).tolist() == [20] * 7
    assert torch.bincount(lcc.y[s.val]).tolist() == [30] * 7
    assert s.test.numel() == 2485 - 7 * 50
    assert make_node_split(lcc, "glnn", seed=1).key() != s.key()  # a new split per seed
    assert s.key().split("-")[1] == "glnn"


def test_linkx_split_uses_labelled_nodes_only():
    g = load_dataset("csbm", num_nodes=1000, num_classes=2, seed=0)
    g.y[:100] = -1
    s = make_node_split(g, "linkx", seed=0)
    assert _disjoint(s.train, s.val, s.test)
    assert (s.train.numel(), s.val.numel(), s.test.numel()) == (450, 225, 225)
    assert bool((g.y[torch.cat([s.train, s.val, s.test])] >= 0).all())
    assert make_node_split(g, "linkx", seed=1).key() != s.key()


def test_link_split_written_in_ogb_format_by_the_cli(csbm, tmp_path):
    from typer.testing import CliRunner

    from g2m.cli.main import app
    from g2m.data import ogb_split_edge

    s = make_link_split(csbm, "transductive", seed=3)
    d = ogb_split_edge(s)
    assert set(d) == {"train", "valid", "test"} and set(d["valid"]) == {"edge", "edge_neg"}
    assert torch.equal(d["train"]["edge"], s.train_pos.t()) and d["test"]["edge_neg"].shape == (s.test_neg.size(1), 2)
    with pytest.raises(SplitError, match="only transductive"):
        ogb_split_edge(make_link_split(csbm, "production", seed=3))

    # the CLI writes the registered csbm dataset's split
    d = ogb_split_edge(make_link_split(load_dataset("csbm"), "transductive", seed=3))
    out = tmp_path / "csbm.pkl"
    res = CliRunner().invoke(app, ["split", "-d", "csbm", "--seed", "3", "--out", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert f"test/edge {d['test']['edge'].size(0):,}" in res.output
    back = torch.load(out)
    for part in d:
        for kind in d[part]:
            assert torch.equal(back[part][kind], d[part][kind])
    assert [p.name for p in tmp_path.iterdir()] == ["csbm.pkl"]  # no temporary file left
