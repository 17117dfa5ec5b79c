"""Merge the results of one experiment whose methods or seeds were run by separate
commands (one process per core, say) into a single result and table.

The parts must agree on everything but their methods and seeds (dataset, setting,
splits, the teacher's configuration, and the student configuration that each
method gets from the dataset's presets and each part's overrides), hold no
(method, seed) run twice, add up to the same consecutive seeds for every method,
and report the same scores for any teacher run they share; anything else is
refused. Student configurations are re-derived from today's presets, so a part
run before a preset changed is refused too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, asdict, fields
from typing import Any, cast

from g2m.config import (
    LinkStudentConfig,
    StudentConfig,
    link_student_config,
    new_option_defaults,
    student_config,
    unread_fields,
)
from g2m.evaluation.report import is_link_result, is_teacher_run, node_result_table, summarize_runs
from g2m.evaluation.results import Results
from g2m.experiments.link import LinkExperiment
from g2m.experiments.node import NodeExperiment, experiment_spec, teacher_names
from g2m.experiments.seeds import seeds_label
from g2m.losses.link_objectives import LINK_METHODS
from g2m.methods import NODE_METHODS, TEACHER_CANDIDATES, parse_node_teacher

# students are listed in this order (teachers first)
METHOD_ORDER = tuple(dict.fromkeys(NODE_METHODS + LINK_METHODS))
# keys that may differ between two runs of the same teacher
_RUN_BOOKKEEPING = ("cached", "seconds")


def _setting(result: Results) -> dict[str, Any]:
    # overrides are compared through the configurations they produce (a preset and the
    # same value given on the command line are one experiment); a field the experiment
    # gained after a part was written (`preset`, say) is read at its default there; where the
    # data, the teacher cache and saved students live, and whether the cache was used, are not
    # part of what was trained
    skip = (
        "methods",
        "seeds",
        "first_seed",
        "teacher_overrides",
        "student_overrides",
        "data_root",
        "cache_dir",
        "use_cache",
        "refresh",
        "save_students",
    )
    kind = LinkExperiment if is_link_result(result) else NodeExperiment
    defaults = {f.name: f.default for f in fields(kind) if f.default is not MISSING}
    return {k: v for k, v in {**defaults, **result["experiment"]}.items() if k not in skip}


def _student_configs(result: Results, methods: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The configuration each of ``methods`` gets from the presets and ``result``'s overrides,
    as stored in a results file."""
    exp = result["experiment"]
    # the dataset's presets with the run's `g2m tune` preset (if any) layered over them, as the run had them
    spec, overrides = (
        experiment_spec(exp["dataset"], exp.get("preset"), exp.get("recipe")),
        exp.get("student_overrides", {}),
    )
    configs: dict[str, Any]
    if is_link_result(result):
        configs = {m: link_student_config(spec, m, **overrides) for m in methods}
    else:
        # a teacher chosen on validation: every candidate shares the students' presets (the first's here)
        teacher = teacher_names(exp["teacher"], exp.get("candidates", TEACHER_CANDIDATES))[0]
        configs = {m: student_config(spec, m, parse_node_teacher(teacher)[0], **overrides) for m in methods}
    return {m: json.loads(json.dumps(asdict(c))) for m, c in configs.items()}


_ABSENT = object()


def _differ(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Keys on which two settings or configurations differ; an option added since one of
    them was written (``g2m.config.option(..., new=True)``) counts as its default there."""
    defaults = new_option_defaults()
    return sorted(
        k for k in a.keys() | b.keys() if a.get(k, defaults.get(k, _ABSENT)) != b.get(k, defaults.get(k, _ABSENT))
    )


def _check_student_configs(results: Sequence[Results]) -> None:
    """Every method trained as the presets and its part's overrides say, and every part's
    overrides giving every method of the merge the same configuration."""
    methods = list(dict.fromkeys(m for r in results for m in r.get("student_configs", {})))
    derived = [_student_configs(r, methods) for r in results]
    for i, (r, configs) in enumerate(zip(results, derived)):
        kind = LinkStudentConfig if is_link_result(r) else StudentConfig
        for m, stored in r.get("student_configs", {}).items():
            if differ := [k for k in _differ(stored, configs[m]) if k not in unread_fields(kind, configs[m])]:
                raise ValueError(
                    f"result {i} trained {m!r} otherwise than today's presets and its overrides "
                    f"give ({', '.join(differ)} differ): it ran before a preset or default changed"
                )
    for i, configs in enumerate(derived[1:], start=1):
        for m in methods:
            if differ := _differ(derived[0][m], configs[m]):
                raise ValueError(
                    f"result {i} trained its students differently from result 0: {', '.join(differ)} differ ({m!r})"
                )


def _title(result: Results) -> str:
    if "title" in result:
        return result["title"]
    first = result["table"].splitlines()[0]  # results written before "title" was stored
    return first.strip("*") if first.startswith("**") else ""


def _seed_grid(students: dict[tuple[str, int], dict[str, Any]]) -> tuple[int, int]:
    """``(first_seed, seeds)`` when every method ran the same consecutive seeds."""
    by_method: dict[str, set[int]] = {}
    for model, seed in students:
        by_method.setdefault(model, set()).add(seed)
    if not by_method:
        raise ValueError("the results hold no student runs")
    (first, seeds), *rest = by_method.items()
    for model, other in rest:
        if other != seeds:
            raise ValueError(
                f"method {model!r} ran seeds {sorted(other)} but {first!r} ran {sorted(seeds)}: "
                "the merged table would average different seeds"
            )
    lo, hi = min(seeds), max(seeds)
    if len(seeds) != hi - lo + 1:
        missing = sorted(set(range(lo, hi + 1)) - seeds)
        raise ValueError(f"the results skip seeds {missing}: run them too, or merge consecutive seeds only")
    return lo, len(seeds)


def _without(result: Results, drop: Sequence[str]) -> Results:
    """``result`` less the students of the methods in ``drop`` (its teacher runs stay)."""
    return {
        **result,
        "experiment": {
            **result["experiment"],
            "methods": [m for m in result["experiment"].get("methods", []) if m not in drop],
        },
        "student_configs": {m: c for m, c in result.get("student_configs", {}).items() if m not in drop},
        "runs": [r for r in result["runs"] if r["model"] not in drop],
    }


def merge_results(results: Sequence[Results], drop: Mapping[int, Sequence[str]] | None = None) -> Results:
    """One result (runs, summary, table) from ``results`` of the same experiment, split
    by method, by seed or both; shared teacher runs are kept once. ``drop`` maps a part's
    index to methods whose students to leave out of it (e.g. rows trained before the method
    changed, which merge would refuse beside today's)."""
    if len(results) < 2:
        raise ValueError(f"merge needs at least two results, got {len(results)}")
    for key in ("experiment", "runs", "table"):
        for i, r in enumerate(results):
            if key not in r:
                raise ValueError(f"result {i} has no {key!r}: not written by `g2m run`")
    if drop:
        results = list(results)
        for i, methods in drop.items():
            if not 0 <= i < len(results):
                raise ValueError(f"cannot drop from part {i}: there are {len(results)} parts")
            held = {r["model"] for r in results[i]["runs"]}
            if missing := sorted(set(methods) - held):
                raise ValueError(f"cannot drop {missing} from part {i}: it holds {sorted(held)}")
            results[i] = _without(results[i], methods)
    base = results[0]
    base_setting = _setting(base)
    for i, r in enumerate(results[1:], start=1):
        setting = _setting(r)
        if differ := _differ(base_setting, setting):
            raise ValueError(f"result {i} is a different experiment from result 0: {', '.join(differ)} differ")
        threads = (base.get("torch_threads"), r.get("torch_threads"))
        if None not in threads and threads[0] != threads[1]:  # older results did not record it
            raise ValueError(
                f"result {i} ran on {threads[1]} torch threads and result 0 on {threads[0]}: "
                "their digits would differ from one run's"
            )
        if differ := _differ(base.get("teacher_config", {}), r.get("teacher_config", {})):
            raise ValueError(
                f"result {i} used a different teacher configuration from result 0: {', '.join(differ)} differ"
            )
    _check_student_configs(results)
    teachers: dict[tuple[Any, ...], dict[str, Any]] = {}
    students: dict[tuple[str, int], dict[str, Any]] = {}
    for i, r in enumerate(results):
        for run in r["runs"]:
            if not is_teacher_run(run):
                if (run["model"], run["seed"]) in students:
                    raise ValueError(
                        f"method {run['model']!r} seed {run['seed']} is in more than one result (again in result {i})"
                    )
                students[run["model"], run["seed"]] = run
                continue
            teacher_key = (run["model"], run["seed"], run.get("split"))
            scores = {k: v for k, v in run.items() if k not in _RUN_BOOKKEEPING}
            if teacher_key in teachers and teachers[teacher_key] != scores:
                raise ValueError(
                    f"result {i} reports different scores for {run['model']} seed {run['seed']}: "
                    "the parts did not share one teacher"
                )
            teachers.setdefault(teacher_key, scores)
    first_seed, num_seeds = _seed_grid(students)
    rank = {m: n for n, m in enumerate(METHOD_ORDER)}

    def order(model: str) -> tuple[int, int]:  # a composed name (glnn+position) after its base method
        return rank.get(model.split("+")[0], len(rank)), model.count("+")

    ordered = sorted({m for m, _ in students}, key=order)
    runs = sorted(teachers.values(), key=lambda run: run["seed"])
    runs += sorted(students.values(), key=lambda run: (order(run["model"]), run["seed"]))
    summary = summarize_runs(runs)
    base_seeds = seeds_label(base["experiment"].get("first_seed", 0), base["experiment"]["seeds"])
    title = _title(base).replace(base_seeds, seeds_label(first_seed, num_seeds), 1)
    configs = {m: c for r in results for m, c in r.get("student_configs", {}).items()}
    homophily = None
    if "homophily" in base:  # node results: every part's per-seed estimates, each seed once
        per_seed = {e["seed"]: e for r in results for e in r.get("homophily", {}).get("per_seed", [])}
        homophily = {**base["homophily"], "per_seed": [per_seed[k] for k in sorted(per_seed)]}
    table = node_result_table(summary, title, homophily, runs)
    kept = cast(Results, {k: v for k, v in base.items() if k not in ("runs", "summary", "table", "title", "seconds")})
    merged: Results = {
        **kept,
        "experiment": {**base["experiment"], "methods": ordered, "seeds": num_seeds, "first_seed": first_seed},
        "student_configs": {m: configs[m] for m in ordered if m in configs},
        "runs": runs,
        "summary": summary,
        "title": title,
        "table": table,
        "seconds": sum(float(r.get("seconds", 0.0)) for r in results),  # total compute over the parts
        "merged_from": len(results),
        # what produced each part (its command, commit, hardware), for submissions
        "parts_provenance": [r["provenance"] for r in results if "provenance" in r],
    }
    if homophily is not None:
        merged["homophily"] = homophily
    return merged
