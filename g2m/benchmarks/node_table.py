"""The node-distillation results table on real Cora and CiteSeer.

Runs every (dataset, teacher, setting) cell with all student methods over
several seeds and checks the claims the project makes about FF-G2M:
it beats the plain MLP by at least 15 points on Cora and is not below its own
teacher's mean on Cora and CiteSeer (transductive).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from g2m.benchmarks.tables import Cell, run_experiment_table, verdict
from g2m.experiments.node import NodeExperiment, run_node_experiment

CELLS: tuple[Cell, ...] = (
    ("cora", "gcn", "transductive"),
    ("cora", "sage", "transductive"),
    ("citeseer", "gcn", "transductive"),
    ("citeseer", "sage", "transductive"),
    ("cora", "gcn", "inductive"),
    ("cora", "sage", "inductive"),
)


def check_node_cell(cell: Cell, summary: list[dict[str, Any]]) -> list[str]:
    dataset, teacher, setting = cell
    rows = {r["model"]: r for r in summary}
    if setting != "transductive" or "ffg2m" not in rows:
        return []
    ff, t = rows["ffg2m"]["test_mean"], rows[f"teacher ({teacher})"]["test_mean"]
    lines = [f"{verdict(ff >= t)}: {dataset}/{teacher} FF-G2M {100 * ff:.2f} >= teacher {100 * t:.2f}"]
    if dataset == "cora" and "mlp" in rows:
        m = rows["mlp"]["test_mean"]
        lines.append(f"{verdict(ff - m >= 0.15)}: cora/{teacher} FF-G2M - MLP = {100 * (ff - m):.2f} points (>= 15)")
    return lines


def run_node_table(
    data_root: str | None,
    out: str | Path,
    seeds: int = 5,
    cache_dir: str | None = None,
    cells: tuple[Cell, ...] = CELLS,
    progress: bool = True,
) -> str:
    return run_experiment_table(
        "node_table", cells, NodeExperiment, run_node_experiment, check_node_cell,
        out, data_root, seeds, cache_dir, progress,
    )
