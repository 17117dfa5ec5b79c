"""``g2m compare``: method A against method B in one multi-seed result."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from g2m.errors import G2MError
from g2m.evaluation.results import Results

if TYPE_CHECKING:
    from g2m.evaluation.published import PublishedTable


def compare_defaults(result: Results) -> tuple[str, str]:
    """``(metric, method a)`` a result is judged by: node runs store their own metric
    (accuracy, rocauc) as 'test' and compare FF-G2M; link runs rank by Hits@20 and
    compare LLP."""
    from g2m.evaluation.report import is_link_result

    return ("hits@20", "llp") if is_link_result(result) else ("test", "ffg2m")


def paired_runs(
    result: Results, other: Results, a: str, b: str, name_a: str, name_b: str, across_teachers: bool = False
) -> list[dict[str, Any]]:
    """The rows of ``a`` in ``result`` and of ``b`` in ``other``, renamed apart, after checking that
    the two runs share their dataset and teachers seed by seed (the pairing is then fair). With
    ``across_teachers``, the teachers may differ (the comparison is of what two teachers teach) but
    the splits may not: their teacher rows must name the same splits."""
    from g2m.evaluation.report import is_teacher_run

    if across_teachers:
        splits = [{r.get("split") for r in res["runs"] if is_teacher_run(r)} for res in (result, other)]
        if splits[0] != splits[1]:
            raise G2MError(
                f"--across-teachers: the runs' splits differ ({sorted(map(str, splits[0]))} and "
                f"{sorted(map(str, splits[1]))}); pairing by seed needs the same splits"
            )
    for key in ("dataset", "setting", "split", *(() if across_teachers else ("teacher",))):
        mine, theirs = result.get("experiment", {}).get(key), other.get("experiment", {}).get(key)
        if mine != theirs:
            raise G2MError(
                f"--against: the runs differ in {key} ({mine!r} and {theirs!r}); pairing by seed needs one experiment"
            )
    teachers = [
        {(r["seed"], r.get("test"), r.get("val")) for r in res["runs"] if is_teacher_run(r)} for res in (result, other)
    ]
    if not across_teachers and (not teachers[0] or teachers[0] != teachers[1]):
        raise G2MError(
            "--against: the runs' teachers differ seed by seed (another split, teacher config or cache); "
            "pairing by seed needs the same teachers"
        )
    left = [{**r, "model": name_a} for r in result["runs"] if r["model"] == a]
    right = [{**r, "model": name_b} for r in other["runs"] if r["model"] == b]
    return left + right


def run_name(path: Path) -> str:
    """What tells a run apart: its ``--out`` directory's name, or its results file's name
    (``cora-mini-lr0.01`` for ``docs/data/minibatch/cora-mini-lr0.01.json``)."""
    if path.is_dir() or path.name == "results.json":
        return (path if path.is_dir() else path.parent).name
    return path.stem


def across_runs(results: list[Results], paths: list[Path]) -> list[dict[str, Any]]:
    """Every student row of several runs of one dataset, split and setting (their teachers and
    presets may differ: recipes), each renamed ``"<method> (<recipe or presets>)"`` (the file's
    name where two runs share that label), for choosing among them on validation."""
    from g2m.evaluation.report import is_teacher_run

    first = results[0].get("experiment", {})
    labels = [res.get("experiment", {}).get("recipe") or "presets" for res in results]
    rows: list[dict[str, Any]] = []
    for res, path, label in zip(results, paths, labels):
        for key in ("dataset", "setting", "split"):
            if res.get("experiment", {}).get(key) != first.get(key):
                raise G2MError(f"{path}: another {key} than {paths[0]}; choose among runs of one experiment")
        name = label if labels.count(label) == 1 else f"{label}, {run_name(path)}"
        rows += [{**r, "model": f"{r['model']} ({name})"} for r in res["runs"] if not is_teacher_run(r)]
    return rows


def published_for(result: Results, recipe: str) -> PublishedTable:
    """The numbers ``recipe`` records as published for the dataset and setting of ``result``."""
    from g2m.evaluation.published import published_table

    experiment = result.get("experiment", {})
    if "dataset" not in experiment or "setting" not in experiment:
        raise G2MError("--published: the results file names no dataset and setting (written by an old g2m?)")
    return published_table(recipe, experiment["dataset"], experiment["setting"])


def compare(
    results: Annotated[
        list[Path],
        typer.Argument(
            help="A results.json, or the --out directory of `g2m run` / `g2m merge`; with --best, several "
            "(runs of one dataset and split under other recipes or presets) to choose among."
        ),
    ],
    a: Annotated[
        Optional[str],
        typer.Option("--a", help="The method claimed better (default: ffg2m for node runs, llp for link runs)."),
    ] = None,
    b: Annotated[
        Optional[str],
        typer.Option("--b", help="The method it is compared with (default: mlp; with --against, the same as --a)."),
    ] = None,
    metric: Annotated[
        Optional[str],
        typer.Option(
            help="Score to compare, a key of the per-seed runs (default: the run's own test score: "
            "'test' for node runs, 'hits@20' for link runs)."
        ),
    ] = None,
    best: Annotated[
        bool,
        typer.Option(
            "--best",
            help="Instead: rank the students by mean validation score and name the best (the choice "
            "a dataset TOML's \\[best.<teacher>] table records; test scores are shown, never used).",
        ),
    ] = False,
    against: Annotated[
        Optional[Path],
        typer.Option(
            help="Another run of the same experiment (same dataset, split, teacher and seeds) whose --b method is "
            "compared, paired by seed, with this run's --a (e.g. a mini-batch run against a full-batch one; "
            "--b defaults to --a)."
        ),
    ] = None,
    across_teachers: Annotated[
        bool,
        typer.Option(
            "--across-teachers",
            help="With --against: the two runs may have other teachers (a heuristic against a GNN, say) on the "
            "same splits and seeds; the pairing then compares what each teacher teaches.",
        ),
    ] = False,
    published: Annotated[
        Optional[str],
        typer.Option(
            help="Instead: each method's mean beside the numbers recipe PUBLISHED records as its paper's "
            "(datasets/recipes/<name>.toml, [<dataset>.published.<setting>]), and whether it is within one "
            "published std; with --best, how far the chosen student is from the best published one.",
        ),
    ] = None,
) -> None:
    """Gap of the means against two standard deviations, and the paired difference by seed."""
    from g2m.evaluation.compare import best_on_validation, compare_methods
    from g2m.evaluation.published import against_published, short_of_best
    from g2m.evaluation.report import read_results

    if across_teachers and against is None:
        raise G2MError("--across-teachers goes with --against (it pairs two runs with other teachers)")
    if published is not None and against is not None:
        raise G2MError("--published compares a run with a paper's numbers; --against with another run: choose one")
    if len(results) > 1 and not best:
        raise G2MError("several results go with --best (choose among them on validation); compare two with --against")
    parsed = [read_results(path) for path in results]
    result = parsed[0]
    a_given, metric_given = a is not None, metric is not None
    default_metric, default_a = compare_defaults(result)
    metric, a = metric or default_metric, a or default_a
    if best:
        rows = result["runs"] if len(parsed) == 1 else across_runs(parsed, results)
        try:
            choice = best_on_validation(rows, metric=metric)
            typer.echo(choice.describe())
            if published is not None:
                chosen = {choice.method, *choice.tied}
                means = [(m, 100 * tm) for m, _, _, tm, _ in choice.ranking if m in chosen]
                typer.echo(short_of_best(means, published_for(result, published), metric))
        except ValueError as err:
            raise G2MError(str(err)) from err
        return
    if published is not None:
        if a_given or metric_given:
            raise G2MError("--published prints every method and score the paper publishes; drop --a and --metric")
        try:
            typer.echo(against_published(result["runs"], published_for(result, published)).describe())
        except ValueError as err:
            raise G2MError(str(err)) from err
        return
    runs = result["runs"]
    if against is not None:
        other = read_results(against)
        b = b or a
        name_a, name_b = f"{a} ({results[0]})", f"{b} ({against})"
        runs = paired_runs(result, other, a, b, name_a, name_b, across_teachers)
        a, b = name_a, name_b
    b = b or "mlp"
    try:
        typer.echo(compare_methods(runs, a, b, metric).describe())
    except (ValueError, KeyError) as err:
        raise G2MError(str(err)) from err
