"""The latency harness on tiny graphs: it runs, its fields are present and positive, outputs are
written, and bad settings are refused (the lab's scale harness: lab/tests/test_scale.py)."""

import csv
import json
import os

import pytest
import torch
from typer.testing import CliRunner

from g2m.benchmarks.latency import FULL, LatencyConfig, headline, run_latency
from g2m.cli.main import app
from g2m.data.csbm import products_like_graph
from g2m.data.neighbour_sampler import has_pyg_sampler
from g2m.evaluation.machine import MIN_REPEATS, latency_summary, time_calls

TINY = dict(repeats=3, warmup=1, budget_s=5.0, threads=1, glnn_layers=())
REQUIRE_PYG_SAMPLER = os.environ.get("G2M_REQUIRE_PYG_EXTENSIONS") == "1"


@pytest.fixture(scope="module")
def tiny_graph():
    return products_like_graph(400, avg_degree=8)


def test_products_like_graph_shape():
    g = products_like_graph(5000)
    assert g.num_features == 100 and g.num_classes == 47
    # ~25 neighbours per node (edges are stored in both directions; a few duplicates merge)
    assert 22 < g.num_edges / g.num_nodes <= 25


def test_latency_harness_fields(tiny_graph):
    cfg = LatencyConfig(batch_sizes=(1, 32, FULL), pair_batch_sizes=(1, 16), samplers=("g2m",), **TINY)
    res = run_latency(tiny_graph, cfg)
    assert res["machine"]["torch_threads"] == 1 and res["machine"]["cpu"]
    assert res["graph"]["nodes"] == 400 and res["graph"]["out_dim"] == 47
    node = [r for r in res["rows"] if r["task"] == "node"]
    link = [r for r in res["rows"] if r["task"] == "link"]
    # per batch: sampled teacher, full k-hop teacher, student; full graph: teacher, student
    assert [r["batch"] for r in node] == [1, 1, 1, 32, 32, 32, "full", "full"]
    assert {r["path"] for r in node} == {
        "teacher sampled (15, 10) [g2m]",
        "teacher full k-hop [g2m]",
        "student",
        "teacher full graph",
    }
    assert [r["batch"] for r in link] == [1, 1, 1, 16, 16, 16]
    for r in res["rows"]:
        for key in ("p50_ms", "p95_ms", "p99_ms", "mean_ms", "items_per_s", "ratio_p50_vs_student"):
            assert r[key] > 0, (r, key)
        assert r["p50_ms"] <= r["p95_ms"] <= r["p99_ms"]
        if r["path"] == "student":
            assert r["ratio_p50_vs_student"] == 1.0
    assert headline(res, batch=32)["ratio_p50"] == node[3]["ratio_p50_vs_student"]
    assert headline(res, batch=1024) is None


@pytest.mark.skipif(not (has_pyg_sampler() or REQUIRE_PYG_SAMPLER), reason="PyG sampling needs torch-sparse")
def test_latency_times_both_samplers_and_the_glnn_row(tiny_graph):
    cfg = LatencyConfig(batch_sizes=(16,), pair_batch_sizes=(), **{**TINY, "glnn_layers": (2, 3)})
    assert cfg.sampler_names() == ("pyg", "g2m")
    res = run_latency(tiny_graph, cfg)
    node = [r["path"] for r in res["rows"] if r["task"] == "node"]
    assert node == [
        "teacher sampled (15, 10) [pyg]",
        "teacher sampled (15, 10) [g2m]",
        "teacher full k-hop [pyg]",
        "teacher full k-hop [g2m]",
        "student",
    ]
    glnn = [r for r in res["rows"] if r["task"] == "glnn"]
    assert [r["path"] for r in glnn] == [
        "SAGE 2 layers, full k-hop [pyg]",
        "SAGE 2 layers, full k-hop [g2m]",
        "MLP 2 layers",
        "SAGE 3 layers, full k-hop [pyg]",
        "SAGE 3 layers, full k-hop [g2m]",
        "MLP 3 layers",
    ]
    assert all(r["batch"] == 10 for r in glnn)
    assert glnn[2]["ratio_p50_vs_student"] == 1.0 and glnn[0]["ratio_p50_vs_student"] > 0
    h = headline(res, batch=16)
    sampled = [r for r in res["rows"] if r["task"] == "node" and r["path"].startswith("teacher sampled")]
    assert h["teacher_p50_ms"] == min(r["p50_ms"] for r in sampled)
    assert set(h["samplers_p50_ms"]) == {r["path"] for r in sampled}


def test_latency_uses_a_trained_student(tiny_graph):
    from g2m.students.mlp import MLP

    student = MLP(100, 5, 8, 2)
    res = run_latency(tiny_graph, LatencyConfig(batch_sizes=(4,), pair_batch_sizes=(), **TINY), student, out_dim=5)
    assert res["graph"]["out_dim"] == 5 and all(r["task"] == "node" for r in res["rows"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"fanouts": (15,)}, "fan-outs for a 2-layer"),
        ({"fanouts": (15, 0)}, "fan-outs must be positive"),
        ({"batch_sizes": (-1,)}, "batch sizes"),
        ({"pair_batch_sizes": (FULL,)}, "batch sizes"),
        ({"repeats": 0}, "repeats"),
        ({"samplers": ("dgl",)}, "unknown sampler"),
        ({"glnn_layers": (0,)}, "glnn_layers"),
    ],
)
def test_latency_config_rejects(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LatencyConfig(**kwargs)


def test_time_calls_budget_and_percentiles():
    calls = []
    secs = time_calls(lambda i: calls.append(i), repeats=100, warmup=2, device=torch.device("cpu"), budget_s=1e-9)
    assert calls[:2] == [-1, -2] and len(secs) == MIN_REPEATS  # the budget stops it at the minimum
    s = latency_summary([0.001 * k for k in range(1, 101)], items_per_call=10)
    assert s["p50_ms"] == pytest.approx(50.5) and s["p99_ms"] == pytest.approx(99.01)
    assert s["items_per_s"] == pytest.approx(10 / 0.0505)


def test_bench_latency_cli_writes_outputs(tmp_path):
    out = tmp_path / "lat"
    res = CliRunner().invoke(
        app,
        [
            "bench",
            "latency",
            "--nodes",
            "300",
            "--batch-sizes",
            "1,full",
            "--pair-batch-sizes",
            "2",
            "--repeats",
            "2",
            "--warmup",
            "0",
            "--threads",
            "1",
            "--no-khop",
            "--samplers",
            "g2m",
            "--glnn-layers",
            "",
            "--out",
            str(out),
        ],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    assert "node batch 1: student: p50 " in res.stderr  # progress, a line per timed path
    data = json.loads((out / "latency.json").read_text())
    assert {r["path"] for r in data["rows"]} == {"teacher sampled (15, 10) [g2m]", "student", "teacher full graph"}
    with open(out / "latency.csv") as f:
        assert len(list(csv.DictReader(f))) == len(data["rows"])
    assert (out / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (out / "latency.md").read_text()
    assert "| node | 1 | student |" in table and table.startswith("**g2m bench latency**: ")
    assert data["kind"] == "bench" and data["columns"][:3] == ["task", "batch", "path"]
    assert data["provenance"]["command"] and data["provenance"]["torch_threads"] == 1
    # the docs' speed tables are this command's output, rendered again from the committed file
    again = CliRunner().invoke(app, ["report", "--bench", str(out / "latency.json")])
    assert again.exit_code == 0 and again.output.strip() == table.strip()


def test_bench_latency_cli_rejects_bad_batch(tmp_path):
    res = CliRunner().invoke(
        app, ["bench", "latency", "--nodes", "300", "--batch-sizes", "1,lots", "--out", str(tmp_path)]
    )
    assert res.exit_code == 2 and "'lots' is not an integer or full" in res.output
    assert not any(tmp_path.iterdir())


def test_latency_times_the_position_lookup_of_unseen_nodes(tiny_graph):
    cfg = LatencyConfig(
        batch_sizes=(8, FULL), pair_batch_sizes=(), samplers=("g2m",), khop=False, position_dim=16, **TINY
    )
    res = run_latency(tiny_graph, cfg)
    node = [(r["batch"], r["path"]) for r in res["rows"] if r["task"] == "node"]
    assert node == [
        (8, "teacher sampled (15, 10) [g2m]"),
        (8, "student + position lookup (16)"),
        (8, "student"),
        ("full", "teacher full graph"),
        ("full", "student"),
    ]
    with pytest.raises(ValueError, match="position_dim"):
        LatencyConfig(position_dim=-1)
