"""Shared driver of the multi-cell result tables (node and link)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from g2m.evaluation.provenance import provenance
from g2m.evaluation.results import Results
from g2m.files import atomic_write_text

Cell = tuple[str, str, str]  # dataset, teacher, setting


def run_table(
    name: str,
    cells: Iterable[Cell],
    run_cell: Callable[[Cell], Results],
    check_cell: Callable[[Cell, Results], list[str]],
    out: str | Path,
    progress: bool = True,
) -> str:
    """Run every cell, write ``<name>.json`` and ``<name>.md`` under ``out``; return the Markdown."""
    parts, results, checks = [], [], []
    for cell in cells:
        res = run_cell(cell)
        results.append(res)
        parts.append(res["table"])
        checks += check_cell(cell, res)
        if progress:
            print(res["table"], flush=True)
    md = "\n".join(parts) + "\n" + "".join(f"- {c}\n" for c in checks)
    out = Path(out)
    record = {"cells": results, "checks": checks, "provenance": provenance()}
    atomic_write_text(out / f"{name}.json", json.dumps(record, indent=2, default=str))
    atomic_write_text(out / f"{name}.md", md)
    return md


def run_experiment_table(
    name: str,
    cells: Iterable[Cell],
    make_experiment: Callable[..., Any],
    run_experiment: Callable[..., Results],
    check_cell: Callable[[Cell, Results], list[str]],
    out: str | Path,
    data_root: str | None,
    seeds: int,
    cache_dir: str | None,
    progress: bool = True,
    device: Any = None,
    **experiment_kwargs: Any,
) -> str:
    """:func:`run_table` where each cell is one multi-seed experiment (``experiment_kwargs``
    go to every experiment), run on ``device`` (default ``auto``)."""

    def run_cell(cell: Cell) -> Results:
        dataset, teacher, setting = cell
        exp = make_experiment(
            dataset,
            teacher,
            seeds=seeds,
            setting=setting,
            data_root=data_root,
            cache_dir=cache_dir,
            **experiment_kwargs,
        )
        return run_experiment(exp, progress=progress, device=device)

    return run_table(name, cells, run_cell, check_cell, out, progress)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"
