import math
import warnings

import pytest
import torch

from g2m.data import load_dataset, make_node_split
from g2m.evaluation.homophily import HeterophilyWarning, homophily, homophily_report, warn_if_heterophilous


def dense_adjusted(ei, y):
    pairs = [(int(y[i]), int(y[j])) for i, j in ei.t().tolist() if y[i] >= 0 and y[j] >= 0]
    h = sum(a == b for a, b in pairs) / len(pairs)
    ends = [c for p in pairs for c in p]
    expected = sum((ends.count(k) / len(ends)) ** 2 for k in set(ends))
    return h, (h - expected) / (1 - expected), len(pairs)


def test_homophily_matches_dense_reference():
    g = torch.Generator().manual_seed(0)
    ei = torch.randint(0, 30, (2, 200), generator=g)
    y = torch.randint(-1, 3, (30,), generator=g)
    h, adj, m = homophily(ei, y)
    rh, radj, rm = dense_adjusted(ei, y)
    assert (h, adj, m) == (pytest.approx(rh), pytest.approx(radj), rm)
    assert math.isnan(homophily(ei, torch.full((30,), -1))[0])


@pytest.mark.parametrize("name,low,high", [("cora", 0.7, 0.8), ("texas", -0.4, -0.1), ("minesweeper", -0.05, 0.05)])
def test_real_graphs_measured(name, low, high, data_root):
    # Platonov et al. (2023) report adjusted homophily 0.77 / -0.26 / 0.01 (texas on its own edge list)
    graph = load_dataset(name, data_root)
    split = make_node_split(graph, "public" if name == "cora" else "fixed", seed=0)
    report = homophily_report(graph.edge_index, graph.y, torch.cat([split.train, split.val]))
    assert low < report.adjusted < high
    assert low - 0.1 < report.estimate < high + 0.1  # training + validation labels only
    assert report.label_edges >= 20


def test_warning_only_for_graph_methods_on_heterophilous_graphs(data_root):
    texas = load_dataset("texas", data_root)
    split = make_node_split(texas, "fixed", seed=0)
    report = homophily_report(texas.edge_index, texas.y, torch.cat([split.train, split.val]))
    with pytest.warns(HeterophilyWarning, match="texas: adjusted edge homophily estimated at -0"):
        assert warn_if_heterophilous(report, ("mlp", "ffg2m"), "texas")
    cora = load_dataset("cora", data_root)
    split = make_node_split(cora, "public", seed=0)
    cora_report = homophily_report(cora.edge_index, cora.y, torch.cat([split.train, split.val]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not warn_if_heterophilous(report, ("mlp", "glnn"), "texas")
        assert not warn_if_heterophilous(cora_report, ("ffg2m",), "cora")


def test_teacher_estimate_used_when_labels_are_too_few():
    ei = torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]])
    y = torch.tensor([0, 0, 1, 1])
    report = homophily_report(ei, y, torch.tensor([0, 1]), teacher_pred=torch.tensor([0, 0, 0, 1]))
    assert report.label_edges == 2 and report.estimate == report.teacher_estimate


@pytest.mark.slow
def test_cli_prints_one_warning_line_and_records_homophily(data_root, tmp_path):
    import json
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "g2m.cli.main",
            "run",
            "-d",
            "texas",
            "-t",
            "sage",
            "--methods",
            "glnn,ffg2m",
            "--seeds",
            "2",
            "--epochs",
            "5",
            "--patience",
            "5",
            "--student-hidden",
            "16",
            "--teacher-hidden",
            "16",
            "--data-root",
            str(data_root),
            "--cache-dir",
            str(tmp_path / "c"),
            "--out",
            str(tmp_path / "r"),
            "-q",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "homophily" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: texas: adjusted edge homophily estimated at -0.")
    result = json.loads((tmp_path / "r" / "results.json").read_text())
    assert result["homophily"]["adjusted"] == pytest.approx(-0.294, abs=0.01)
    assert [e["seed"] for e in result["homophily"]["per_seed"]] == [0, 1]
    assert "Edge homophily 0.06, adjusted -0.29" in result["table"]
