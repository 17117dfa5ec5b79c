"""``g2m merge``: one table from runs that split an experiment's methods or seeds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from g2m.cli.common import check_output_dir, command_line, save_result
from g2m.errors import G2MError


def merge(
    ctx: typer.Context,
    results: Annotated[list[Path], typer.Argument(help="results.json files, or the --out directories of `g2m run`.")],
    out: Annotated[Path, typer.Option(help="Directory for the merged results.json and results.md.")],
) -> None:
    """Merge runs of one experiment that split its methods or its seeds (--first-seed), e.g.
    one command per core sharing the cached teacher, into one JSON and table."""
    from g2m.evaluation.report import read_results
    from g2m.experiments.merge import merge_results

    check_output_dir(out)
    try:
        merged = merge_results([read_results(p) for p in results])
    except ValueError as err:
        raise G2MError(str(err)) from err
    save_result(out, merged, command_line(ctx))
