"""``g2m cache list | clear``: the cached teachers, their size, scores and keys."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from g2m.cli.common import CacheDir
from g2m.errors import CacheCorruptError, G2MError

cache_app = typer.Typer(help="The teacher cache: list what is cached, or clear it.", no_args_is_help=True)
DatasetFilter = Annotated[Optional[str], typer.Option("--dataset", "-d", help="Only this dataset's teachers.")]


def _entries(cache_dir: Path | None, dataset: str | None) -> tuple[Path, list[Path]]:
    from g2m.cache import TeacherCache, cache_entries

    root = TeacherCache(cache_dir).root
    return root, cache_entries(root, dataset) if root.is_dir() else []


def _describe(path: Path, root: Path) -> dict[str, Any]:
    size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
    row: dict[str, Any] = {"path": str(path), "mib": round(size / 2**20, 2)}
    from g2m.cache import read_meta

    try:
        meta = read_meta(path)
        row.update(meta["key"])
        row["scores"] = meta.get("scores", {})
    except CacheCorruptError:
        row["error"] = "meta.json cannot be read"
        row["dataset"] = path.relative_to(root).parts[0]
    return row


@cache_app.command("list")
def list_cache(
    dataset: DatasetFilter = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document instead of a table.")] = False,
    cache_dir: CacheDir = None,
) -> None:
    """Every cached teacher: dataset, task, model (with its hyper-parameter hash), seed, split, size, scores."""
    root, entries = _entries(cache_dir, dataset)
    rows = [_describe(p, root) for p in entries]
    if as_json:
        typer.echo(json.dumps({"root": str(root), "teachers": rows}, indent=2))
        return
    if not rows:
        typer.echo(f"no cached teachers in {root}")
        return
    table = [("dataset", "task", "model", "seed", "split", "MiB", "val", "test")]
    for r in rows:
        scores = r.get("scores", {})
        fmt = lambda k: f"{100 * scores[k]:.2f}" if isinstance(scores.get(k), float) else "-"  # noqa: E731
        table.append(
            (
                r["dataset"],
                r.get("task", "?"),
                r.get("model", r.get("error", "?")),
                str(r.get("seed", "?")),
                r.get("split", "?"),
                f"{r['mib']:.2f}",
                fmt("val"),
                fmt("test"),
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    total = sum(r["mib"] for r in rows)
    typer.echo(f"\n{len(rows)} teachers, {total:.1f} MiB in {root}")


@cache_app.command("clear")
def clear_cache(
    dataset: DatasetFilter = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    cache_dir: CacheDir = None,
) -> None:
    """Delete cached teachers (all, or one dataset's); they are retrained when next needed."""
    root, entries = _entries(cache_dir, dataset)
    if not entries:
        typer.echo(f"nothing to clear in {root}")
        return
    what = f"{len(entries)} cached teachers" + (f" of {dataset}" if dataset else "") + f" in {root}"
    if not yes:
        if not sys.stdin.isatty():
            raise G2MError(f"this would delete {what}; add --yes to confirm")
        typer.confirm(f"Delete {what}?", abort=True)
    for path in entries:
        shutil.rmtree(path)
    base = root / dataset if dataset else root
    for folder in sorted((p for p in base.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()  # the empty split / model folders left above the removed teachers
    typer.echo(f"deleted {what}")
