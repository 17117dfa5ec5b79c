"""``g2m merge``: one table from runs that split an experiment's methods or seeds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from g2m.errors import G2MError
from g2m.evaluation.report import read_results, write_results
from g2m.experiments.merge import merge_results


def merge(
    results: Annotated[list[Path], typer.Argument(help="results.json files, or the --out directories of `g2m run`.")],
    out: Annotated[Path, typer.Option(help="Directory for the merged results.json and results.md.")],
) -> None:
    """Merge runs of one experiment that split its methods or its seeds (--first-seed), e.g.
    one command per core sharing the cached teacher, into one JSON and table."""
    try:
        merged = merge_results([read_results(p) for p in results])
    except ValueError as err:
        raise G2MError(str(err)) from err
    json_path, md_path = write_results(out, merged, merged["table"])
    typer.echo(merged["table"])
    typer.echo(f"wrote {json_path} and {md_path}")
