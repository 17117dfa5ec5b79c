"""Multi-seed aggregation and result files (JSON + a readable Markdown table).

Summaries follow the OGB leaderboard convention: every score is reported as
mean and (sample) standard deviation over independent seeds, validation next
to test.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from g2m.errors import G2MError
from g2m.evaluation.results import Results, RunRow, SummaryRow
from g2m.files import atomic_write_text
from g2m.methods import DISTILLED, LABELS, UNWEIGHTED

SCORE_ORDER = ("val", "test", "test_ind", "prod", "hits@10", "hits@20", "hits@50", "hits@100", "mrr", "rocauc")


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    n = len(values)
    if n == 0:
        raise ValueError("no values to summarise")
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std


def summarize(runs: Iterable[RunRow], group: str = "model") -> list[SummaryRow]:
    """Group per-seed runs by ``group`` and give ``<score>_mean`` / ``<score>_std``."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault(run[group], []).append(run)
    rows = []
    for name, items in groups.items():
        row: dict[str, Any] = {group: name, "seeds": len(items)}
        keys = [k for k in SCORE_ORDER if all(k in r for r in items)]
        for key in keys:
            row[f"{key}_mean"], row[f"{key}_std"] = mean_std([float(r[key]) for r in items])
        rows.append(row)
    return rows


def summarize_runs(runs: Sequence[RunRow], group: str = "model") -> list[SummaryRow]:
    """:func:`summarize`, plus each group's mean ``seconds_per_epoch`` where its runs report one."""
    summary = summarize(runs, group)
    for row in summary:
        secs = [r["seconds_per_epoch"] for r in runs if r[group] == row[group] and "seconds_per_epoch" in r]
        if secs:
            row["seconds_per_epoch"] = sum(secs) / len(secs)
    return summary


def score_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    return [k for k in SCORE_ORDER if rows and all(f"{k}_mean" in r for r in rows)]


def markdown_table(rows: Sequence[dict[str, Any]], title: str = "", scale: float = 100.0, group: str = "model") -> str:
    """Scores as ``mean ± std`` (in percent by default)."""
    cols = score_columns(rows)
    lines = [f"**{title}**", ""] if title else []
    lines.append("| " + " | ".join([group, *cols]) + " |")
    lines.append("|" + "---|" * (len(cols) + 1))
    for r in rows:
        cells = [f"{scale * r[f'{c}_mean']:.2f} ± {scale * r[f'{c}_std']:.2f}" for c in cols]
        lines.append("| " + " | ".join([str(r[group]), *cells]) + " |")
    return "\n".join(lines) + "\n"


def write_results(out_dir: str | os.PathLike, result: Results, table: str) -> tuple[Path, Path]:
    out = Path(out_dir)
    return (
        atomic_write_text(out / "results.json", json.dumps(result, indent=2, default=str)),
        atomic_write_text(out / "results.md", table),
    )


def is_teacher_run(run: RunRow) -> bool:
    """A per-seed row of the teacher (``model`` is ``"teacher (<name>)"``), not of a student."""
    return run["model"].startswith("teacher")


def is_link_result(result: Results) -> bool:
    """Whether a results file holds a link experiment: its experiment has a
    ``teacher_seed`` (a LinkExperiment), or its runs report Hits@20."""
    return "teacher_seed" in result.get("experiment", {}) or any("hits@20" in r for r in result.get("runs", []))


def read_results(path: str | os.PathLike) -> Results:
    """The result :func:`write_results` wrote: ``path`` is its results.json or the directory holding it."""
    path = Path(path)
    file = path / "results.json" if path.is_dir() else path
    if not file.is_file():
        raise G2MError(f"no results.json at {path}")
    try:
        result = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise G2MError(f"{file} is not valid JSON: {err}") from None
    check_results(result, file)
    return result


def check_results(result: Any, file: str | os.PathLike) -> None:
    """Refuse a results file that is not what :func:`write_results` writes, with one error naming
    the file and the field: a JSON object whose ``runs`` is a non-empty list of rows, each with a
    ``model`` name, an integer ``seed`` and no ``null`` value, and (when present) an ``experiment``
    object naming its ``dataset``."""

    def fail(field: str, problem: str) -> None:
        raise G2MError(f"{file}: {field} {problem}; not a results.json written by g2m run / g2m merge")

    if not isinstance(result, dict):
        fail("the top level", f"is a JSON {type(result).__name__}, not an object")
    runs = result.get("runs")
    if not isinstance(runs, list) or not runs:
        fail("runs", "is missing" if runs is None else "must be a non-empty list of rows")
    for i, row in enumerate(runs):
        if not isinstance(row, dict):
            fail(f"runs[{i}]", "is not an object")
        if not isinstance(row.get("model"), str):
            fail(f"runs[{i}].model", "is missing or not a name")
        if isinstance(row.get("seed"), bool) or not isinstance(row.get("seed"), int):
            fail(f"runs[{i}].seed", "is missing or not an integer")
        for key, value in row.items():
            if value is None:
                fail(f"runs[{i}].{key}", "is null")
    experiment = result.get("experiment")
    if experiment is not None and (not isinstance(experiment, dict) or not isinstance(experiment.get("dataset"), str)):
        fail("experiment", "must be an object naming its dataset")


def guard_lines(runs: list[RunRow]) -> list[str]:
    """One line per guarded method (``config.guard``): which student the guard kept on how
    many seeds (:func:`g2m.training.node_student.distill_node_student`)."""
    chosen: dict[str, dict[str, list[int]]] = {}
    for run in runs:
        if "guard" in run:
            chosen.setdefault(run["model"], {}).setdefault(run["guard"], []).append(run["seed"])
    lines = []
    for model, picks in chosen.items():
        total = sum(len(seeds) for seeds in picks.values())
        parts = [
            f"{kind} on {len(picks[kind])}"
            + (f" (seed {', '.join(map(str, sorted(picks[kind])))})" if kind != DISTILLED else "")
            for kind in (DISTILLED, UNWEIGHTED, LABELS)
            if kind in picks
        ]
        lines.append(f"{model}: the guard kept {'; '.join(parts)} of {total} seeds")
    return lines


def teacher_choice_lines(runs: list[RunRow]) -> list[str]:
    """For a teacher chosen on validation (``g2m run -t best``): which one on how many seeds, e.g.
    ``teacher chosen on validation: appnp on 6 (seeds 0, 2, ...); gat on 4 (...)``, and every
    candidate's mean validation and test scores over the seeds; none when the teacher was named."""
    chosen = [run for run in runs if "chosen" in run]
    if not chosen:
        return []
    picks: dict[str, list[int]] = {}
    for run in chosen:
        picks.setdefault(run["chosen"], []).append(run["seed"])
    parts = [
        f"{name} on {len(seeds)} (seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, sorted(seeds)))})"
        for name, seeds in sorted(picks.items(), key=lambda item: (-len(item[1]), item[0]))
    ]
    names = list(dict.fromkeys(name for run in chosen for name in run["candidates"]))
    means = []
    for name in names:
        scores = [run["candidates"][name] for run in chosen if name in run["candidates"]]
        val, test = (100 * sum(s[key] for s in scores) / len(scores) for key in ("val", "test"))
        means.append(f"{name} {val:.2f} / {test:.2f}")
    return [
        "teacher chosen on validation: " + "; ".join(parts),
        "candidates, mean val / test over the seeds: " + ", ".join(means),
    ]


def node_result_table(
    summary: list[SummaryRow],
    title: str,
    homophily: dict[str, Any] | None,
    runs: list[RunRow] | None = None,
) -> str:
    """A node result's Markdown table, with a line under it on the graph's measured
    homophily and the estimate made before distilling (results without one: the table),
    two on the teachers chosen on validation (:func:`teacher_choice_lines`) and one per guarded
    method on the guard's choices (:func:`guard_lines`)."""
    table = markdown_table(summary, title)
    guards = teacher_choice_lines(runs or []) + guard_lines(runs or [])
    if guards:
        table += "\n" + "\n".join(f"- {line}" for line in guards) + "\n"
    if homophily is None:
        return table
    est = [e["estimate"] for e in homophily["per_seed"]]
    return table + (
        f"\nEdge homophily {homophily['edge']:.2f}, adjusted {homophily['adjusted']:.2f}; "
        f"estimated before distilling (adjusted): {min(est):.2f} to {max(est):.2f}.\n"
    )


def node_rows(result: Results) -> dict[str, dict[str, Any]]:
    """A node result's summary rows by model name (``teacher (gcn)`` read as ``teacher``)."""
    return {r["model"].split(" (")[0]: r for r in result["summary"]}


def _guard_counts(result: Results) -> str:
    """``"L / w / u"``: on how many seeds a guarded student kept labels alone, the
    agreement-weighted student and unweighted FF-G2M; empty when no student was guarded."""
    from g2m.methods import GUARD_CANDIDATES

    picks = [run["guard"] for run in result["runs"] if "guard" in run]
    return " / ".join(str(picks.count(kind)) for kind in GUARD_CANDIDATES) if picks else ""


def summary_table(results: dict[tuple[str, str, str], Results], title: str) -> str:
    """One row per cell (dataset, teacher, setting) of node results: each model's test mean ± std
    (production: prod) and the homophily; when a guarded student ran (``ffg2m_safe``), which
    candidate its guard kept on how many seeds (``g2m report --summary``)."""
    models = ["teacher", *dict.fromkeys(m for r in results.values() for m in node_rows(r) if m != "teacher")]
    guards = {cell: _guard_counts(res) for cell, res in results.items()}
    guarded = any(guards.values())
    head = ["dataset", "teacher", "setting", "h_adj", *models, *(["guard kept (L / w / u)"] if guarded else [])]
    lines = [f"**{title}**", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cell, res in results.items():
        dataset, teacher, setting = cell
        rows = node_rows(res)
        key = "prod" if setting == "inductive" else "test"
        cells = [
            f"{100 * rows[m][f'{key}_mean']:.2f} ± {100 * rows[m][f'{key}_std']:.2f}" if m in rows else ""
            for m in models
        ]
        if guarded:
            cells.append(guards[cell])
        h = res.get("homophily", {}).get("adjusted")
        lines.append("| " + " | ".join([dataset, teacher, setting, "" if h is None else f"{h:.2f}", *cells]) + " |")
    return "\n".join(lines) + "\n"
