import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from g2m.data import edge_homophily, get_spec, list_datasets, load_dataset, make_graph
from g2m.data.csbm import csbm_tensors
from g2m.errors import DatasetNotFoundError, DatasetUnavailableError, InvalidGraphError

REGISTRY = {
    "cora",
    "citeseer",
    "pubmed",
    "amazon-photo",
    "amazon-computers",
    "coauthor-cs",
    "coauthor-physics",
    "cornell",
    "texas",
    "wisconsin",
    "actor",
    "minesweeper",
    "tolokers",
    "chameleon-filtered",
    "squirrel-filtered",
    "ogbn-arxiv",
    "ogbn-products",
    "ogbl-collab",
    "ogbl-citation2",
    "csbm",
    "reed98",
    "amherst41",
    "johnshopkins55",
    "cornell5",
    "products-like",
}
OFFLINE = [
    "cora",
    "citeseer",
    "cornell",
    "texas",
    "wisconsin",
    "actor",
    "minesweeper",
    "tolokers",
    "chameleon-filtered",
    "squirrel-filtered",
    "amazon-photo",
    "amazon-computers",
    "coauthor-cs",
    "coauthor-physics",
    "reed98",
    "amherst41",
    "johnshopkins55",
    "cornell5",
]
# PyG's published statistics (nodes, edges counted in both directions, features, classes)
PUBLISHED = {
    "amazon-photo": (7650, 238162, 745, 8),
    "amazon-computers": (13752, 491722, 767, 10),
    "coauthor-cs": (18333, 163788, 6805, 15),
    "coauthor-physics": (34493, 495924, 8415, 5),
    "reed98": (962, 37624, 745, 2),
    "amherst41": (2235, 181908, 1193, 2),
    "johnshopkins55": (5180, 373172, 2406, 2),
    "cornell5": (18660, 1581554, 4735, 2),
}


def test_registry_names():
    assert {s.name for s in list_datasets()} == REGISTRY


@pytest.mark.slow
@pytest.mark.parametrize("name", OFFLINE)
def test_offline_dataset_loads_with_documented_sizes(name, data_root):
    spec = get_spec(name)
    g = load_dataset(name, data_root)
    assert (g.num_nodes, g.num_edges, g.raw_num_edges) == (spec.num_nodes, spec.num_edges, spec.raw_num_edges)
    assert (g.num_features, g.num_classes) == (spec.num_features, spec.num_classes)
    ei = g.edge_index
    assert not (ei[0] == ei[1]).any(), "self-loops must be removed"
    # symmetric: every edge present in both directions
    ids = set((ei[0] * g.num_nodes + ei[1]).tolist())
    assert all((j * g.num_nodes + i) in ids for i, j in ei[:, :500].t().tolist())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_new_datasets_have_published_counts(name, data_root):
    g = load_dataset(name, data_root)
    assert (g.num_nodes, g.num_edges, g.num_features, g.num_classes) == PUBLISHED[name]
    if get_spec(name).loader == "linkx":  # Facebook100: -1 marks an unlabelled node
        assert set(g.y.unique().tolist()) == {-1, 0, 1}


def test_documented_sizes_of_shared_readme(data_root):
    # The raw counts printed in ../shared/datasets/README.md.
    assert load_dataset("cora", data_root).raw_num_edges == 10556
    assert load_dataset("actor", data_root).raw_num_edges == 30019
    assert load_dataset("minesweeper", data_root).raw_num_edges == 78804
    assert load_dataset("tolokers", data_root).num_nodes == 11758


def test_unknown_dataset():
    with pytest.raises(DatasetNotFoundError, match="unknown dataset 'corra'.*cora"):
        load_dataset("corra")


def test_missing_files_give_clear_error_without_network(tmp_path):
    # conftest makes every name lookup fail, as on a machine with no network
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset("pubmed", tmp_path)
    msg = str(info.value)
    assert "could not be downloaded" in msg and "Traceback" not in msg
    assert str(tmp_path / "PubMed" / "raw" / "ind.pubmed.x") in msg


def test_offline_only_dataset_missing(tmp_path):
    with pytest.raises(DatasetUnavailableError, match="chameleon_filtered.npz"):
        load_dataset("chameleon-filtered", tmp_path)


def test_graph_validation():
    x = torch.randn(4, 2)
    with pytest.raises(InvalidGraphError, match="no edges"):
        make_graph("g", x, torch.zeros(4), torch.empty(2, 0, dtype=torch.long))
    with pytest.raises(InvalidGraphError, match="only self-loops"):
        make_graph("g", x, torch.zeros(4), torch.tensor([[1], [1]]))
    with pytest.raises(InvalidGraphError, match="3 labels for 4 nodes"):
        make_graph("g", x, torch.zeros(3), torch.tensor([[0], [1]]))
    with pytest.raises(InvalidGraphError, match="outside"):
        make_graph("g", x, torch.zeros(4), torch.tensor([[0], [9]]))


@pytest.mark.parametrize("h", [0.1, 0.5, 0.9])
def test_csbm_homophily_matches_parameter(h):
    g = load_dataset("csbm", num_nodes=5000, homophily=h, seed=1)
    assert abs(edge_homophily(g.edge_index, g.y) - h) < 0.05


def test_csbm_is_deterministic_and_sized():
    a = csbm_tensors(num_nodes=1000, num_classes=4, avg_degree=8, seed=3)
    b = csbm_tensors(num_nodes=1000, num_classes=4, avg_degree=8, seed=3)
    c = csbm_tensors(num_nodes=1000, num_classes=4, avg_degree=8, seed=4)
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert not torch.equal(a[2], c[2])
    assert a[2].size(1) == 4000 and torch.bincount(a[1]).tolist() == [250] * 4
    with pytest.raises(InvalidGraphError, match="homophily"):
        csbm_tensors(homophily=1.5)


def test_csbm_generator_overrides_only_for_csbm(data_root):
    with pytest.raises(TypeError, match="no generator parameters"):
        load_dataset("cora", data_root, num_nodes=10)


# --- OGB loading path, offline, on tiny stand-ins in OGB's on-disk format -------------


def _csv_gz(path: Path, rows: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as fh:
        for row in np.atleast_2d(rows.T).T if rows.ndim == 1 else rows:
            fh.write(",".join(str(v) for v in np.atleast_1d(row)) + "\n")


def write_ogbn_arxiv_standin(root: Path, n: int = 30) -> None:
    rng = np.random.default_rng(0)
    base = root / "ogbn_arxiv"
    edges = np.stack([np.arange(n), (np.arange(n) + 1) % n], axis=1)
    _csv_gz(base / "raw" / "edge.csv.gz", edges)
    _csv_gz(base / "raw" / "node-feat.csv.gz", rng.normal(size=(n, 128)).round(3))
    _csv_gz(base / "raw" / "node-label.csv.gz", (np.arange(n) % 40).reshape(-1, 1))
    _csv_gz(base / "raw" / "node_year.csv.gz", np.full((n, 1), 2020))
    _csv_gz(base / "raw" / "num-node-list.csv.gz", np.array([[n]]))
    _csv_gz(base / "raw" / "num-edge-list.csv.gz", np.array([[len(edges)]]))
    for part, idx in (("train", range(0, 20)), ("valid", range(20, 25)), ("test", range(25, n))):
        _csv_gz(base / "split" / "time" / f"{part}.csv.gz", np.array(list(idx)).reshape(-1, 1))
    (base / "RELEASE_v1.txt").write_text("stand-in\n")


def write_ogbl_collab_standin(root: Path, n: int = 40) -> None:
    rng = np.random.default_rng(0)
    base = root / "ogbl_collab"
    edges = np.stack([np.arange(n), (np.arange(n) + 1) % n], axis=1)
    _csv_gz(base / "raw" / "edge.csv.gz", edges)
    _csv_gz(base / "raw" / "node-feat.csv.gz", rng.normal(size=(n, 128)).round(3))
    _csv_gz(base / "raw" / "edge_weight.csv.gz", np.ones((n, 1), dtype=int))
    _csv_gz(base / "raw" / "edge_year.csv.gz", np.full((n, 1), 2010))
    _csv_gz(base / "raw" / "num-node-list.csv.gz", np.array([[n]]))
    _csv_gz(base / "raw" / "num-edge-list.csv.gz", np.array([[n]]))
    split = base / "split" / "time"
    split.mkdir(parents=True)
    e = torch.from_numpy(edges)
    torch.save({"edge": e[:30], "weight": torch.ones(30), "year": torch.full((30,), 2010)}, split / "train.pt")
    neg = torch.stack([torch.arange(5), torch.arange(5) + 10], 1)
    torch.save({"edge": e[30:35], "edge_neg": neg}, split / "valid.pt")
    torch.save({"edge": e[35:], "edge_neg": neg + 1}, split / "test.pt")
    (base / "RELEASE_v1.txt").write_text("stand-in\n")


def test_ogbn_loads_offline_from_standin(tmp_path):
    write_ogbn_arxiv_standin(tmp_path)
    g = load_dataset("ogbn-arxiv", tmp_path)
    assert g.num_nodes == 30 and g.num_features == 128 and g.num_classes == 40
    assert g.raw_num_edges == 30 and g.num_edges == 60
    assert [int(g.masks[k].sum()) for k in ("train", "val", "test")] == [20, 5, 5]


def test_ogbl_loads_offline_from_standin(tmp_path):
    from g2m.data import make_link_split

    write_ogbl_collab_standin(tmp_path)
    g = load_dataset("ogbl-collab", tmp_path)
    split = make_link_split(g, "ogb")
    assert split.train_pos.shape == (2, 30) and split.test_pos.shape == (2, 5)
    assert split.val_neg.shape == (2, 5)


def test_pipeline_runs_ogbn_standin_and_products_like_unchanged(tmp_path):
    """`g2m bench pipeline`: the same stages take an OGB dataset (stand-in) and the synthetic
    products-like graph, teacher and student in mini-batches from their presets."""
    import json as _json

    from typer.testing import CliRunner

    from g2m.cli.main import app

    write_ogbn_arxiv_standin(tmp_path / "data")
    runs = {"ogbn-arxiv": [], "products-like": ["--nodes", "3000"]}
    for dataset, extra in runs.items():
        out = tmp_path / dataset
        res = CliRunner().invoke(
            app,
            [
                "bench",
                "pipeline",
                "-d",
                dataset,
                "--teacher-epochs",
                "2",
                "--student-epochs",
                "2",
                "--data-root",
                str(tmp_path / "data"),
                "--cache-dir",
                str(tmp_path / "cache"),
                "--out",
                str(out),
                "-q",
                *extra,
            ],
            catch_exceptions=False,
        )
        assert res.exit_code == 0, res.output
        data = _json.loads((out / "pipeline.json").read_text())
        stages = [r["stage"] for r in data["rows"]]
        assert stages == [
            "load graph",
            "split",
            "teacher: train and infer every node",
            "teacher: write cache",
            "cache: read logits",
            "student ffg2m: distil",
            "evaluate",
        ]
        assert all(r["seconds"] >= 0 and r["peak_rss_mib"] > 0 for r in data["rows"])
        assert data["teacher"]["config"]["batch_size"] and data["student"]["config"]["batch_size"]
        assert 0.0 <= data["student"]["scores"]["test"] <= 1.0
        assert (tmp_path / "cache" / data["dataset"]).is_dir()
    assert data["graph"]["nodes"] == 3000 and data["split"]["train"] == 240  # 8 % of 3,000


def test_pipeline_runs_on_the_split_protocols_graph(data_root, tmp_path):
    """`g2m bench pipeline` trains on the graph its split protocol is defined on: for a GLNN/CPF
    dataset, the largest connected component, as `g2m run` does."""
    from g2m.benchmarks.pipeline import run_pipeline
    from g2m.data.registry import load_dataset
    from g2m.data.splits import protocol_graph

    small = {"hidden": 16, "num_layers": 2, "epochs": 2}
    res = run_pipeline(
        "amazon-photo",
        teacher="sage",
        method="glnn",
        data_root=str(data_root),
        cache_dir=tmp_path / "cache",
        teacher_overrides=small,
        student_overrides=small,
        progress=False,
        echo=None,
    )
    lcc = protocol_graph(load_dataset("amazon-photo", str(data_root)), "glnn")
    assert lcc.num_nodes < 7650
    assert res["graph"]["nodes"] == lcc.num_nodes
    assert res["split"]["train"] == 20 * 8 and res["split"]["val"] == 30 * 8
    assert sum(res["split"].values()) == lcc.num_nodes
