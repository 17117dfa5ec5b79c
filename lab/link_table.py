"""The link-distillation results table on real Cora and CiteSeer (SAGE teacher).

The verdict per cell is the paired one (:mod:`g2m.evaluation.compare`): with one
split and one teacher, LLP wins when it is ahead of the MLP on at least 8 of 10
seeds and its paired mean gain exceeds two standard errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from g2m.evaluation.compare import compare_methods
from g2m.evaluation.results import Results
from g2m.experiments.link import LinkExperiment, run_link_experiment
from lab.tables import Cell, run_experiment_table

CELLS: tuple[Cell, ...] = (
    ("cora", "sage", "transductive"),
    ("citeseer", "sage", "transductive"),
    ("cora", "sage", "production"),
)


def check_link_cell(cell: Cell, result: Results) -> list[str]:
    dataset, _, setting = cell
    models = {r["model"] for r in result["runs"]}
    if "llp" not in models or "mlp" not in models:
        return []
    comp = compare_methods(result["runs"], "llp", "mlp", "hits@20")
    return [f"{dataset} ({setting}): {comp.describe_verdict()}"]


def run_link_table(
    data_root: str | None,
    out: str | Path,
    seeds: int = 5,
    cache_dir: str | None = None,
    cells: tuple[Cell, ...] = CELLS,
    progress: bool = True,
    split_seed: int | None = 0,
    teacher_seed: int | None = 0,
    device: Any = None,
) -> str:
    """Defaults follow LLP's protocol: one split and one teacher (seed 0) for every
    seed, so seeds vary the students' initialisation and sampling. ``None`` for
    either gives a new split / teacher per seed (adding that variance)."""
    return run_experiment_table(
        "link_table",
        cells,
        LinkExperiment,
        run_link_experiment,
        check_link_cell,
        out,
        data_root,
        seeds,
        cache_dir,
        progress,
        device,
        split_seed=split_seed,
        teacher_seed=teacher_seed,
    )
