"""``g2m report``: a results file's table, rendered again from its per-seed rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from g2m.errors import G2MError


def load_json(path: Path, what: str) -> Any:
    """``path`` parsed as JSON; one clear error naming ``what`` it should be when it cannot be read."""
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise G2MError(f"{path}: not a readable {what} ({err})") from None


def render(path: Path) -> str:
    """The Markdown table of a ``results.json``, recomputed from its ``runs`` (mean ± std per model
    and score) and its ``title`` (and, for node results, its homophily record): what ``g2m run``
    wrote, or would write now for the same rows."""
    from g2m.evaluation.report import is_link_result, markdown_table, node_result_table, read_results, summarize_runs

    result = read_results(path)
    if is_link_result(result):
        return markdown_table(summarize_runs(result["runs"]), result["title"])
    if "homophily" not in result:
        raise G2MError(f"{path}: a node result without its homophily record (written before g2m recorded it)")
    return node_result_table(summarize_runs(result["runs"]), result["title"], result["homophily"], result["runs"])


def summary_cells(paths: list[Path]) -> dict[tuple[str, str, str], Any]:
    """The node results files, by cell (dataset, teacher, setting); two files of one cell are refused."""
    from g2m.evaluation.report import is_link_result, read_results

    cells = {}
    for path in paths:
        result = read_results(path)
        if is_link_result(result) or "homophily" not in result:
            raise G2MError(f"{path}: --summary takes node results files (with their homophily record)")
        exp = result["experiment"]
        cell = (exp["dataset"], exp["teacher"], exp["setting"])
        if cell in cells:
            raise G2MError(f"{path}: a second file of {'/'.join(cell)}; merge them first (`g2m merge`)")
        cells[cell] = result
    return cells


#: the title of ``g2m report --summary``'s table
SUMMARY_TITLE = "test (inductive rows: prod = 0.8 tran + 0.2 ind), mean ± std"


def summary(paths: list[Path]) -> str:
    """One row per node results file (dataset, teacher, setting, adjusted homophily, each model's
    test mean ± std; production rows: prod)."""
    from g2m.evaluation.report import summary_table

    return summary_table(summary_cells(paths), SUMMARY_TITLE).rstrip()


def bench(paths: list[Path], where: str | None = None) -> str:
    """The table of each ``g2m bench`` output file (``latency.json``, ``serving.json``,
    ``scale.json``, ...), with the machine and commit it was measured on
    (:func:`~g2m.benchmarks.outputs.bench_table`); ``where`` (``COLUMN=V1,V2``) keeps the rows whose
    column holds one of the values."""
    from g2m.benchmarks.outputs import bench_table

    keep = None
    if where is not None:
        column, sep, values = where.partition("=")
        if not sep or not column or not values:
            raise G2MError(f"--where {where!r}: give COLUMN=VALUE[,VALUE...], e.g. --where task=kd,lfd")
        keep = (column, set(values.split(",")))
    return "\n".join(bench_table(load_json(path, "bench output"), str(path), keep) for path in paths).rstrip()


def report(
    results: Annotated[
        list[Path],
        typer.Argument(
            help="results.json files (or their folders) written by `g2m run` or `g2m merge` (with --bench: "
            "bench outputs)."
        ),
    ],
    summary_rows: Annotated[
        bool,
        typer.Option(
            "--summary",
            help="Instead: one row per file (node results of several datasets or settings), each model's test "
            "mean ± std and the adjusted homophily.",
        ),
    ] = False,
    bench_rows: Annotated[
        bool,
        typer.Option(
            "--bench",
            help="Instead: the files are bench outputs (`g2m bench`: latency.json, serving.json, ...; "
            "`python -m lab`: scale.json, ...); "
            "each one's table, with the machine and commit it was measured on.",
        ),
    ] = False,
    where: Annotated[
        Optional[str],
        typer.Option(help="With --bench: only the rows whose COLUMN holds one of the values (COLUMN=V1,V2)."),
    ] = None,
) -> None:
    """Print each results file's table, rendered again from its per-seed rows (the docs' tables are
    checked against this command's output)."""
    if where is not None and not bench_rows:
        raise G2MError("--where goes with --bench")
    if summary_rows and bench_rows:
        raise G2MError("--summary and --bench render different files; choose one")
    if bench_rows:
        typer.echo(bench(results, where))
        return
    if summary_rows:
        typer.echo(summary(results))
        return
    for i, path in enumerate(results):
        typer.echo(("\n" if i else "") + render(path).rstrip())
