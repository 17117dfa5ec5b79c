"""``g2m report``: a results file's table, rendered again from its per-seed rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from g2m.errors import G2MError


def render(path: Path) -> str:
    """The Markdown table of a ``results.json``, recomputed from its ``runs`` (mean ± std per model
    and score) and its ``title`` (and, for node results, its homophily record): what ``g2m run``
    wrote, or would write now for the same rows."""
    from g2m.evaluation.report import check_results, is_link_result, markdown_table, summarize_runs
    from g2m.experiments.node import node_result_table

    try:
        result = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise G2MError(f"{path}: not a readable results file ({err})") from None
    check_results(result, str(path))
    if is_link_result(result):
        return markdown_table(summarize_runs(result["runs"]), result["title"])
    if "homophily" not in result:
        raise G2MError(f"{path}: a node result without its homophily record (written before g2m recorded it)")
    return node_result_table(summarize_runs(result["runs"]), result["title"], result["homophily"], result["runs"])


def report(
    results: Annotated[list[Path], typer.Argument(help="results.json files written by `g2m run` or `g2m merge`.")],
) -> None:
    """Print each results file's table, rendered again from its per-seed rows (the docs' tables are
    checked against this command's output)."""
    for i, path in enumerate(results):
        typer.echo(("\n" if i else "") + render(path).rstrip())
