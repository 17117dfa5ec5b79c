"""Merge the results of one experiment whose methods were run by separate commands
(one process per core, say) into a single result and table.

The parts must agree on everything but their methods (dataset, setting, seeds,
splits, the teacher's configuration and the student settings all their methods
share), hold disjoint methods, and report the same scores for any teacher run
they share; anything else is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from g2m.evaluation.report import markdown_table, summarize_runs
from g2m.losses.link_objectives import LINK_METHODS
from g2m.losses.objectives import NODE_METHODS

# students are listed in this order (teachers first)
METHOD_ORDER = tuple(dict.fromkeys(NODE_METHODS + LINK_METHODS))
# keys that may differ between two runs of the same teacher
_RUN_BOOKKEEPING = ("cached",)


def _setting(result: dict[str, Any]) -> dict[str, Any]:
    # overrides are compared through the configurations they produce (a preset and the
    # same value given on the command line are one experiment)
    skip = ("methods", "teacher_overrides", "student_overrides")
    return {k: v for k, v in result["experiment"].items() if k not in skip}


def _shared_student_settings(result: dict[str, Any]) -> dict[str, Any]:
    """The student settings every method of ``result`` shares (lr, epochs, patience, ...)."""
    configs = list(result.get("student_configs", {}).values())
    if not configs:
        return {}
    # the method and its loss weights are per-method by definition, even in a one-method part
    return {k: v for k, v in configs[0].items()
            if k != "method" and not k.startswith("w_") and all(c.get(k) == v for c in configs[1:])}


def _title(result: dict[str, Any]) -> str:
    if "title" in result:
        return result["title"]
    first = result["table"].splitlines()[0]  # results written before "title" was stored
    return first.strip("*") if first.startswith("**") else ""


def _is_teacher(run: dict[str, Any]) -> bool:
    return run["model"].startswith("teacher")


def merge_results(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One result (runs, summary, table) from ``results`` of the same experiment
    with disjoint methods; shared teacher runs are kept once."""
    if len(results) < 2:
        raise ValueError(f"merge needs at least two results, got {len(results)}")
    for key in ("experiment", "runs", "table"):
        for i, r in enumerate(results):
            if key not in r:
                raise ValueError(f"result {i} has no {key!r}: not written by `g2m run`")
    base = results[0]
    base_setting, base_students = _setting(base), _shared_student_settings(base)
    for i, r in enumerate(results[1:], start=1):
        setting = _setting(r)
        differ = sorted(k for k in base_setting.keys() | setting.keys() if base_setting.get(k) != setting.get(k))
        if differ:
            raise ValueError(f"result {i} is a different experiment from result 0: {', '.join(differ)} differ")
        threads = (base.get("torch_threads"), r.get("torch_threads"))
        if None not in threads and threads[0] != threads[1]:  # older results did not record it
            raise ValueError(f"result {i} ran on {threads[1]} torch threads and result 0 on {threads[0]}: "
                             "their digits would differ from one run's")
        if r.get("teacher_config") != base.get("teacher_config"):
            raise ValueError(f"result {i} used a different teacher configuration from result 0")
        shared = _shared_student_settings(r)
        differ = sorted(k for k in base_students.keys() & shared.keys() if base_students[k] != shared[k])
        if differ:
            raise ValueError(f"result {i} trained its students differently from result 0: {', '.join(differ)} differ")
    methods: list[str] = []
    for i, r in enumerate(results):
        for m in r["experiment"]["methods"]:
            if m in methods:
                raise ValueError(f"method {m!r} is in more than one result (again in result {i})")
            methods.append(m)

    teachers: dict[tuple[Any, ...], dict[str, Any]] = {}
    students: list[dict[str, Any]] = []
    for i, r in enumerate(results):
        for run in r["runs"]:
            if not _is_teacher(run):
                students.append(run)
                continue
            key = (run["model"], run["seed"], run.get("split"))
            scores = {k: v for k, v in run.items() if k not in _RUN_BOOKKEEPING}
            if key in teachers and teachers[key] != scores:
                raise ValueError(f"result {i} reports different scores for {run['model']} seed {run['seed']}: "
                                 "the parts did not share one teacher")
            teachers.setdefault(key, scores)
    rank = {m: n for n, m in enumerate(METHOD_ORDER)}
    students.sort(key=lambda run: rank.get(run["model"], len(rank)))  # stable: seeds keep their order
    runs = list(teachers.values()) + students
    summary = summarize_runs(runs)
    title = _title(base)
    ordered = sorted(methods, key=lambda m: rank.get(m, len(rank)))
    configs = {m: c for r in results for m, c in r.get("student_configs", {}).items()}
    return {
        **{k: v for k, v in base.items() if k not in ("runs", "summary", "table", "title", "seconds")},
        "experiment": {**base["experiment"], "methods": ordered},
        "student_configs": {m: configs[m] for m in ordered if m in configs},
        "runs": runs, "summary": summary, "title": title, "table": markdown_table(summary, title),
        "seconds": sum(float(r.get("seconds", 0.0)) for r in results),  # total compute over the parts
        "merged_from": len(results),
    }
