"""``g2m leaderboard``: a run's results as an OGB leaderboard submission."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from g2m.cli.common import DataRoot


def leaderboard(
    results: Annotated[Path, typer.Argument(help="A results.json, or the --out directory of `g2m run` / `g2m merge`.")],
    method: Annotated[
        Optional[str], typer.Option(help="The student to submit (default: ffg2m, or llp for link runs).")
    ] = None,
    metric: Annotated[
        Optional[str], typer.Option(help="Link runs: the test metric (default hits@20; e.g. mrr, hits@50).")
    ] = None,
    min_runs: Annotated[int, typer.Option(help="Runs required (OGB's rule: 10).")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the entry as JSON.")] = False,
    data_root: DataRoot = None,
) -> None:
    """Test and validation mean ± std over the runs (OGB's Evaluator), #params, hardware, command."""
    from g2m.cli.compare import compare_defaults
    from g2m.data.registry import load_dataset
    from g2m.data.specs import get_spec
    from g2m.evaluation.report import read_results
    from g2m.experiments.leaderboard import leaderboard_entry, leaderboard_markdown

    result = read_results(results)
    method = method or compare_defaults(result)[1]
    exp = result["experiment"]
    spec = get_spec(exp["dataset"])
    features, classes = spec.num_features, spec.num_classes
    if features is None or (classes is None and spec.task == "node") or exp.get("dataset_overrides"):
        graph = load_dataset(
            exp["dataset"], str(data_root) if data_root else exp.get("data_root"), **exp.get("dataset_overrides", {})
        )
        features, classes = graph.num_features, graph.num_classes
    entry = leaderboard_entry(result, method, min_runs, (features, classes or 0), metric)
    typer.echo(json.dumps(entry, indent=2) if as_json else leaderboard_markdown(entry))
