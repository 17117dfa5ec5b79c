"""``g2m compare``: method A against method B in one multi-seed result."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from g2m.errors import G2MError


def compare_defaults(result: dict[str, Any]) -> tuple[str, str]:
    """``(metric, method a)`` a result is judged by: node runs store their own metric
    (accuracy, rocauc) as 'test' and compare FF-G2M; link runs rank by Hits@20 and
    compare LLP."""
    from g2m.evaluation.report import is_link_result

    return ("hits@20", "llp") if is_link_result(result) else ("test", "ffg2m")


def compare(
    results: Annotated[Path, typer.Argument(help="A results.json, or the --out directory of `g2m run` / `g2m merge`.")],
    a: Annotated[Optional[str], typer.Option(
        "--a", help="The method claimed better (default: ffg2m for node runs, llp for link runs).")] = None,
    b: Annotated[str, typer.Option("--b", help="The method it is compared with.")] = "mlp",
    metric: Annotated[Optional[str], typer.Option(
        help="Score to compare, a key of the per-seed runs (default: the run's own test score: "
             "'test' for node runs, 'hits@20' for link runs).")] = None,
    best: Annotated[bool, typer.Option(
        "--best", help="Instead: rank the students by mean validation score and name the best (the choice "
                       "a dataset TOML's [best.<teacher>] table records; test scores are shown, never used).")]
    = False,
) -> None:
    """Gap of the means against two standard deviations, and the paired difference by seed."""
    from g2m.evaluation.compare import best_on_validation, compare_methods
    from g2m.evaluation.report import read_results

    result = read_results(results)
    default_metric, default_a = compare_defaults(result)
    metric, a = metric or default_metric, a or default_a
    if best:
        try:
            typer.echo(best_on_validation(result["runs"], metric=metric).describe())
        except ValueError as err:
            raise G2MError(str(err)) from err
        return
    try:
        typer.echo(compare_methods(result["runs"], a, b, metric).describe())
    except (ValueError, KeyError) as err:
        raise G2MError(str(err)) from err
