"""``g2m config show``: every resolved option of a run and the layer it came from."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any, Optional

import tomllib
import typer

from g2m.cli.common import (
    ConfigFile,
    Dataset,
    GraphFile,
    Recipe,
    SetOpt,
    SpecFile,
    config_file_tables,
    dataset_source,
    parse_set,
    refuse_run_only_teacher,
    teacher_for,
)
from g2m.errors import G2MError

config_app = typer.Typer(help="Inspect the configuration a run would use.", no_args_is_help=True)


def _from_preset_file(source: str, preset: dict[str, Any], path: Path, field: str) -> str:
    """``source`` relabelled as the preset file's when that file sets ``field`` in its table."""
    if "[" not in source:
        return source
    table = source[source.index("[") + 1 : -1].replace('"', "").split(".")
    node: Any = preset
    for key in table:
        node = node.get(key, {}) if isinstance(node, dict) else {}
    if isinstance(node, dict) and field in node:
        return f"preset file {path} [{source.split('[', 1)[1]}"
    return source


@config_app.command("show")
def show(
    ctx: typer.Context,
    dataset: Dataset = "csbm",
    graph: GraphFile = None,
    teacher: Annotated[
        Optional[str],
        typer.Option("--teacher", "-t", help="Teacher GNN (default: as g2m run: the recipe's, else gcn / sage)."),
    ] = None,
    method: Annotated[
        Optional[str], typer.Option(help="Student method (default: ffg2m for node tasks, llp for link tasks).")
    ] = None,
    task: Annotated[str, typer.Option(help="node | link")] = "node",
    preset: Annotated[Optional[Path], typer.Option(help="A preset file layered over the dataset's.")] = None,
    recipe: Recipe = None,
    spec: SpecFile = None,
    config_file: ConfigFile = None,
    set_: SetOpt = None,
) -> None:
    """Print every teacher and student option the run would use, with the layer it came from
    (code default, the options the method's name sets, a table of the dataset's TOML or of the
    --recipe that replaces them, a preset file, the command line). --set applies to the student,
    or to the teacher with a `teacher.` prefix."""
    from g2m import config as cfg
    from g2m.experiments.node import experiment_spec

    if task not in ("node", "link"):
        raise G2MError(f"--task must be node or link, got {task!r}")
    if recipe is not None and task != "node":
        raise G2MError("--recipe applies to node tasks (the recipes set node teachers and students)")
    teacher = teacher_for(task, teacher, recipe)
    method = method or ("ffg2m" if task == "node" else "llp")
    refuse_run_only_teacher(teacher, "config show")
    try:
        the_spec = experiment_spec(
            dataset_source(dataset, graph, spec), None if preset is None else str(preset), recipe, teacher
        )
    except ValueError as err:
        raise G2MError(str(err)) from None
    t_over, s_over = parse_set(set_)
    if task == "node":
        sections = [
            ("teacher", cfg.TeacherConfig, cfg.teacher_layers(the_spec, teacher, **t_over)),
            ("student", cfg.StudentConfig, cfg.student_layers(the_spec, method, teacher, **s_over)),
        ]
    else:
        from g2m.methods import LINK_HEURISTICS

        if teacher in LINK_HEURISTICS and t_over:
            raise G2MError(f"the {teacher} heuristic is not trained: --set teacher.* does not apply")
        sections = [
            ("teacher", cfg.LinkTeacherConfig, cfg.link_teacher_layers(the_spec, teacher, **t_over)),
            ("student", cfg.LinkStudentConfig, cfg.link_student_layers(the_spec, method, **s_over)),
        ][teacher in LINK_HEURISTICS :]  # a heuristic teacher has nothing to configure
    file, t_file, s_file = config_file_tables(ctx)
    if file is not None:  # the file's tables: a layer under the command line
        for (_, _, layers), table in zip(sections, (t_file, s_file)[-len(sections) :]):
            layers.insert(len(layers) - 1, (f"config file {file}", table))
    preset_tables = None if preset is None else tomllib.loads(preset.read_text())
    rows: list[tuple[str, str, str]] = []
    for section, cls, layers in sections:
        try:
            config, sources = cfg.resolved(cls, layers)  # type: ignore[var-annotated]
        except ValueError as err:
            raise G2MError(f"{section}: {err}") from None
        for f in fields(config):
            source = sources[f.name]
            if recipe is not None and source.startswith(f"{the_spec.name} [hparams.{section}"):
                source = f"recipe {recipe} ({the_spec.name}) [{source.split('[', 1)[1]}"
            if preset is not None and preset_tables is not None:
                source = _from_preset_file(source, preset_tables, preset, f.name)
            rows.append((f"{section}.{f.name}", repr(getattr(config, f.name)), source))
    width = [max(len(r[i]) for r in rows) for i in range(2)]
    heuristic = " (a heuristic: nothing trained, nothing to configure)" if len(sections) == 1 else ""
    typer.echo(f"{the_spec.name}, {task} task, {teacher} teacher{heuristic}, {method} student")
    for name, value, source in rows:
        typer.echo(f"{name:<{width[0]}}  {value:<{width[1]}}  {source}")
