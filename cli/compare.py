"""``g2m compare``: method A against method B in one multi-seed result."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from g2m.errors import G2MError
from g2m.evaluation.compare import compare_methods
from g2m.evaluation.report import read_results


def compare(
    results: Annotated[Path, typer.Argument(help="A results.json, or the --out directory of `g2m run` / `g2m merge`.")],
    a: Annotated[str, typer.Option("--a", help="The method claimed better.")] = "llp",
    b: Annotated[str, typer.Option("--b", help="The method it is compared with.")] = "mlp",
    metric: Annotated[str, typer.Option(help="Score to compare (a key of the per-seed runs).")] = "hits@20",
) -> None:
    """Gap of the means against two standard deviations, and the paired difference by seed."""
    try:
        typer.echo(compare_methods(read_results(results)["runs"], a, b, metric).describe())
    except (ValueError, KeyError) as err:
        raise G2MError(str(err)) from err
