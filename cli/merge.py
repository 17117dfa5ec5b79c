"""``g2m merge``: one table from runs that split an experiment's methods or seeds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from g2m.cli.common import check_output_dir, command_line, hold_output, save_result
from g2m.errors import G2MError


def merge(
    ctx: typer.Context,
    results: Annotated[list[Path], typer.Argument(help="results.json files, or the --out directories of `g2m run`.")],
    out: Annotated[Path, typer.Option(help="Directory for the merged results.json and results.md.")],
    drop: Annotated[
        Optional[list[str]],
        typer.Option(
            help="PART:METHOD[,METHOD]: leave these methods' students out of that part (PART as given among the "
            "results), e.g. rows trained before the method changed. Repeat for several parts."
        ),
    ] = None,
) -> None:
    """Merge runs of one experiment that split its methods or its seeds (--first-seed), e.g.
    one command per core sharing the cached teacher, into one JSON and table."""
    from g2m.evaluation.report import read_results
    from g2m.experiments.merge import merge_results

    check_output_dir(out)
    hold_output(ctx, out)
    try:
        merged = merge_results([read_results(p) for p in results], _drops(drop or [], results))
    except ValueError as err:
        raise G2MError(str(err)) from err
    save_result(out, merged, command_line(ctx))


def _drops(entries: list[str], results: list[Path]) -> dict[int, list[str]]:
    """``["runs/a:krd,glnn"]`` -> ``{index of runs/a among the results: ["krd", "glnn"]}``."""
    parts = [str(p) for p in results]
    out: dict[int, list[str]] = {}
    for entry in entries:
        part, sep, methods = entry.rpartition(":")
        if not sep or not methods:
            raise G2MError(f"--drop {entry!r}: expected PART:METHOD[,METHOD]")
        if part not in parts:
            raise G2MError(f"--drop {entry!r}: {part!r} is not one of the results ({', '.join(parts)})")
        out.setdefault(parts.index(part), []).extend(m for m in methods.split(",") if m)
    return out
