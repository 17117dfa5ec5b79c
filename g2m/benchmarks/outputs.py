"""Write speed-benchmark results: JSON (everything), CSV (the rows), Markdown (the
table) and a PNG plot, each written atomically."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from g2m.files import atomic_write_bytes, atomic_write_text

if TYPE_CHECKING:
    import matplotlib.pyplot as plt


def _pyplot() -> Any:
    """matplotlib's pyplot on its file-only backend (an extra: ``pip install 'g2m[plots]'``)."""
    from g2m.errors import require

    matplotlib = require("matplotlib", "a benchmark's plot", "plots")
    matplotlib.use("Agg")  # files only, no display
    return require("matplotlib.pyplot", "a benchmark's plot", "plots")


def rows_csv(rows: Sequence[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def number(value: Any) -> str:
    """A table cell: floats to three significant figures without an exponent (``0.876``,
    ``14.3``, ``1,089``), everything else as it is; a missing value is empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return str(value)


def rows_markdown(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """The rows as a Markdown table of ``columns`` (cells by :func:`number`)."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(number(row.get(c)) for c in columns) + " |")
    return "\n".join(lines) + "\n"


#: the benches of the ``g2m`` command; a record of another bench without its ``runner`` is the lab's
#: (``python -m lab NAME``, written before records named their runner)
G2M_BENCHES = ("latency", "serving", "pipeline")


def bench_record(
    name: str, result: dict[str, Any], columns: Sequence[str], summary: str | None, runner: str = "g2m bench"
) -> dict[str, Any]:
    """``result`` as ``RUNNER NAME`` (``g2m bench latency``, ``python -m lab scale``) stores it: with
    the columns of its table, its summary line and its provenance (commit, command, machine), so
    that ``g2m report --bench`` renders the same table from the file alone."""
    from g2m.evaluation.provenance import provenance

    return {
        "kind": "bench",
        "bench": name,
        "runner": runner,
        **result,
        "columns": list(columns),
        "summary": summary,
        "provenance": provenance(),
    }


def bench_table(record: dict[str, Any], path: str = "", where: tuple[str, set[str]] | None = None) -> str:
    """The table of a :func:`bench_record`: a line naming the bench and what it ran on, the rows
    as Markdown, then its summary line. ``where = (column, values)`` keeps the rows whose column
    holds one of ``values`` (compared as text) and says so in the head line."""
    from g2m.errors import G2MError

    if not isinstance(record, dict) or record.get("kind") != "bench" or not isinstance(record.get("rows"), list):
        raise G2MError(f"{path}: not a `g2m bench` output (latency.json, serving.json, scale.json, ...)")
    if not {"columns", "provenance"} <= record.keys():
        raise G2MError(f"{path}: a `g2m bench` output without its columns or provenance; run the bench again")
    prov = record["provenance"]
    commit = (prov.get("commit") or "outside git")[:7]
    runner = record.get("runner") or ("g2m bench" if record["bench"] in G2M_BENCHES else "python -m lab")
    head = (
        f"**{runner} {record['bench']}**: {prov['cpu']}, {prov['logical_cpus']} logical CPUs, "
        f"torch {prov['torch']}, {prov['torch_threads']} thread(s), commit {commit}"
    )
    rows = record["rows"]
    if where is not None:
        column, values = where
        if not any(column in row for row in rows):
            raise G2MError(f"{path}: no column {column!r} to select rows by (columns: {', '.join(record['columns'])})")
        rows = [row for row in rows if str(row.get(column)) in values]
        head += f" (rows with {column} in {', '.join(sorted(values))})"
    text = head + "\n\n" + rows_markdown(rows, record["columns"])
    return text + ("\n" + record["summary"] + "\n" if record.get("summary") else "")


def figure_png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    _pyplot().close(fig)
    return buf.getvalue()


def write_bench(
    out_dir: str | os.PathLike, name: str, result: dict[str, Any], table: str, fig: plt.Figure | None
) -> list[Path]:
    """``<name>.json`` (``result``, a :func:`bench_record`), ``<name>.csv``, ``<name>.md`` and (with a
    figure) ``<name>.png`` under ``out_dir``."""
    out = Path(out_dir)
    png = None if fig is None else figure_png(fig)  # render first: a plotting error leaves no partial set
    written = [
        atomic_write_text(out / f"{name}.json", json.dumps(result, indent=2, default=str) + "\n"),
        atomic_write_text(out / f"{name}.csv", rows_csv(result["rows"])),
        atomic_write_text(out / f"{name}.md", table),
    ]
    return written + ([atomic_write_bytes(out / f"{name}.png", png)] if png is not None else [])


def save_bench(
    out_dir: str | os.PathLike,
    name: str,
    result: dict[str, Any],
    columns: Sequence[str],
    summary: str | None,
    fig: plt.Figure | None = None,
    runner: str = "g2m bench",
) -> tuple[str, list[Path]]:
    """Write ``result`` as ``RUNNER NAME``'s record (:func:`bench_record`, :func:`write_bench`);
    returns its table (what ``g2m report --bench`` prints from the JSON) and the paths written."""
    record = bench_record(name, result, columns, summary, runner)
    table = bench_table(record)
    return table, write_bench(out_dir, name, record, table, fig)


def latency_figure(result: dict[str, Any]) -> plt.Figure:
    """p50 latency against batch size (log-log), one line per path, node and link panels."""
    tasks = [t for t in ("node", "link") if any(r["task"] == t for r in result["rows"])]
    fig, axes = _pyplot().subplots(1, len(tasks), figsize=(6 * len(tasks), 4.2), squeeze=False)
    n = result["graph"]["nodes"]
    for ax, task in zip(axes[0], tasks):
        rows = [r for r in result["rows"] if r["task"] == task]
        for path in dict.fromkeys(r["path"] for r in rows):
            pts = sorted((n if r["batch"] == "full" else r["batch"], r["p50_ms"]) for r in rows if r["path"] == path)
            ax.plot(*zip(*pts), marker="o", label=path)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("nodes per batch" if task == "node" else "candidate pairs per batch")
        ax.set_ylabel("p50 latency (ms)")
        ax.set_title(f"{task} inference, {n:,} nodes")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    m = result["machine"]
    fig.suptitle(f"{m['cpu']} | {m['torch_threads']} thread(s) | {m['device']}", fontsize=9)
    return fig


def scale_figure(result: dict[str, Any]) -> plt.Figure:
    """Seconds and peak extra memory against graph size (log-log), one line per task."""
    rows = [r for r in result["rows"] if "error" not in r and r["avg_degree"] == result["config"]["avg_degree"]]
    fig, (ax_t, ax_m) = _pyplot().subplots(1, 2, figsize=(12, 4.2))
    for task in dict.fromkeys(r["task"] for r in rows):
        pts = sorted((r["edges"], r["seconds"], r["peak_extra_mib"]) for r in rows if r["task"] == task)
        edges = [p[0] for p in pts]
        ax_t.plot(edges, [p[1] for p in pts], marker="o", label=task)
        ax_m.plot(edges, [p[2] for p in pts], marker="o", label=task)
    for ax, label in ((ax_t, "seconds (one epoch / one pass)"), (ax_m, "peak memory over inputs (MiB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("edges (both directions)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    ax_t.legend(fontsize=8)
    m = result["machine"]
    fig.suptitle(f"products-like CSBM | {m['cpu']} | {m['torch_threads']} thread(s) | {m['device']}", fontsize=9)
    return fig
