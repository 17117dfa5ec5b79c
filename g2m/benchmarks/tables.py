"""Shared driver of the multi-cell result tables (node and link)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from g2m.evaluation.report import atomic_write_text

Cell = tuple[str, str, str]  # dataset, teacher, setting


def run_table(
    name: str,
    cells: Iterable[Cell],
    run_cell: Callable[[Cell], dict[str, Any]],
    check_cell: Callable[[Cell, list[dict[str, Any]]], list[str]],
    out: str | Path,
    progress: bool = True,
) -> str:
    """Run every cell, write ``<name>.json`` and ``<name>.md`` under ``out``; return the Markdown."""
    parts, results, checks = [], [], []
    for cell in cells:
        res = run_cell(cell)
        results.append(res)
        parts.append(res["table"])
        checks += check_cell(cell, res["summary"])
        if progress:
            print(res["table"], flush=True)
    md = "\n".join(parts) + "\n" + "".join(f"- {c}\n" for c in checks)
    out = Path(out)
    atomic_write_text(out / f"{name}.json", json.dumps({"cells": results, "checks": checks}, indent=2, default=str))
    atomic_write_text(out / f"{name}.md", md)
    return md


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"
