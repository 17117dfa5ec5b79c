"""Options and helpers shared by the CLI commands."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from g2m.errors import G2MError
from g2m.evaluation.results import Results
from g2m.methods import DEVICE_HELP, LINK_SETTING_NAMES, NODE_SETTINGS, SPLIT_NAMES

DataRoot = Annotated[
    Optional[Path],
    typer.Option("--data-root", envvar="G2M_DATA_ROOT", help="Dataset root (default: ~/.cache/g2m/datasets)."),
]
CacheDir = Annotated[
    Optional[Path],
    typer.Option("--cache-dir", envvar="G2M_CACHE_DIR", help="Teacher cache (default: ~/.cache/g2m/teachers)."),
]
Dataset = Annotated[str, typer.Option("--dataset", "-d", help="Registered dataset name (see `g2m datasets`).")]
GraphFile = Annotated[
    Optional[Path],
    typer.Option(
        "--graph",
        help="Your own graph: a torch_geometric Data saved with torch.save (.pt) or an .npz with node_features, "
        "node_labels, edges and masks; used instead of --dataset (see g2m.data.graph_file).",
    ),
]
SpecFile = Annotated[
    Optional[Path],
    typer.Option(
        "--spec", help="A dataset spec TOML from anywhere, used instead of --dataset (folders of them: $G2M_SPECS)."
    ),
]
Recipe = Annotated[
    Optional[str],
    typer.Option(
        help="A paper's own teacher and student loop, replacing the dataset's node presets: ffg2m | glnn | "
        "krd | nosmog | vqgraph (datasets/recipes; docs: Recipes). --set and a --preset file still apply over it.",
    ),
]
Seed = Annotated[int, typer.Option(help="Random seed (split, initialisation, dropout).")]
Setting = Annotated[
    str,
    typer.Option(
        help="Node: " + " | ".join(NODE_SETTINGS) + ". Link (--task link): " + " | ".join(LINK_SETTING_NAMES) + "."
    ),
]
Split = Annotated[
    Optional[str], typer.Option(help=" | ".join(SPLIT_NAMES) + " (node tasks; default: the dataset's protocol).")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or progress lines.")]
DeviceOpt = Annotated[str, typer.Option("--device", help="Where to compute: " + DEVICE_HELP)]
Threads = Annotated[
    Optional[int],
    typer.Option(
        "--threads",
        min=1,
        help="CPU threads for torch (default: torch's choice; 1 is fastest for two jobs side by side).",
    ),
]
Refresh = Annotated[bool, typer.Option("--refresh", help="Retrain teachers even when cached (and re-cache them).")]


def compute_on(device: str, threads: int | None):
    """The checked ``--device`` (one ``error:`` line for a bad one, before any work) with
    ``--threads`` applied."""
    from g2m.device import resolve_device, set_threads
    from g2m.distributed import init_from_env

    set_threads(threads)
    dev = init_from_env(resolve_device(device))  # under torchrun: join the process group, one GPU per rank
    from g2m.distributed import is_main

    if not is_main():  # data-parallel: rank 0 says each warning once
        warnings.simplefilter("ignore")
    return dev


def dataset_source(dataset: str, graph: Path | None, spec: Path | None) -> str:
    """What ``--dataset``, ``--graph`` or ``--spec`` names, as the dataset string every command and
    result file carries (a registered name, or a file path)."""
    if graph is not None and spec is not None:
        raise G2MError("give --graph or --spec, not both (a spec file can point at a graph file)")
    chosen = graph if graph is not None else spec
    if chosen is None:
        return dataset
    if not chosen.is_file():
        raise G2MError(f"{'--graph' if graph is not None else '--spec'} {chosen}: no such file")
    return str(chosen.resolve())


def teacher_for(task: str, teacher_name: str | None, recipe: str | None = None) -> str:
    """The teacher asked for; without -t, the recipe's own teacher when it defines one (the first
    it lists), else gcn for node tasks and sage for link tasks."""
    if teacher_name is None and recipe is not None:
        from g2m.data.specs import read_recipe

        try:
            teachers = read_recipe(recipe).get("teachers", [])
        except ValueError as err:
            raise G2MError(str(err)) from None
        if teachers:  # the recipe's own (its first, where it defines several)
            return teachers[0]
    return teacher_name or ("sage" if task == "link" else "gcn")


def refuse_run_only_teacher(teacher: str, command: str) -> None:
    """Refuse ``-t best`` and ``-t <gnn>+cs`` outside ``g2m run``: they are built from trained GNNs
    at run time, and ``command`` trains or reads one GNN."""
    from g2m.methods import BEST_TEACHER, CORRECT_SMOOTH

    if teacher == BEST_TEACHER or teacher.endswith(CORRECT_SMOOTH):
        raise G2MError(
            f"-t {teacher} is g2m run's (it chooses among or smooths trained GNNs as it runs); g2m {command} "
            f"takes one GNN, e.g. -t {teacher.removesuffix(CORRECT_SMOOTH) if teacher != BEST_TEACHER else 'sage'}"
        )


def overrides(**values: Any) -> dict[str, Any]:
    """Keep only the options the user actually set."""
    return {k: v for k, v in values.items() if v is not None}


SetOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--set",
        help="Any config field as KEY=VALUE, the value read as TOML (repeatable; `teacher.KEY` for the "
        "teacher's): every option, those without a flag of their own included. `g2m config show` lists them.",
    ),
]


def _read_run_config(ctx: typer.Context, path: Optional[Path]) -> Optional[Path]:
    """``--config FILE`` (eager): the file's top-level keys become the command's option defaults
    (each named as its flag, ``batch-size`` or ``batch_size``), its ``[hparams.teacher]`` and
    ``[hparams.student]`` tables (as in a dataset's TOML) a layer of config fields under the command
    line's (:func:`config_file_tables`)."""
    import tomllib

    if path is None or ctx.resilient_parsing:
        return path
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise typer.BadParameter(f"cannot read {path}: {err}") from None
    hparams = data.pop("hparams", {})
    if not isinstance(hparams, dict) or set(hparams) - {"teacher", "student"}:
        raise typer.BadParameter(f"{path}: [hparams] holds a [hparams.teacher] and a [hparams.student] table only")
    tables = {k: v for k, v in hparams.items() if isinstance(v, dict)}
    params = {p.name: p for p in ctx.command.params if p.name}
    by_flag = {opt[2:].replace("-", "_"): name for name, p in params.items() for opt in p.opts if opt.startswith("--")}
    unknown = sorted(k for k in data if k.replace("-", "_") not in by_flag or k in ("config", "set"))
    if ctx.info_name == "show":  # g2m config show reads a run's file: the run's other options are not its own
        data = {k: v for k, v in data.items() if k not in unknown}
        unknown = []
    if unknown:
        raise typer.BadParameter(
            f"{path}: g2m {ctx.info_name} has no option {', '.join(unknown)} (keys are its flags without "
            f"the dashes; config fields go in [hparams.teacher] and [hparams.student] tables)"
        )
    defaults: dict[str, Any] = {}
    for key, value in data.items():
        name = by_flag[key.replace("-", "_")]
        if isinstance(value, list) and not params[name].multiple:
            value = ",".join(map(str, value))  # methods = ["mlp", "glnn"] -> "mlp,glnn"
        defaults[name] = value
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    ctx.meta["g2m_config_file"] = (path, tables.get("teacher", {}), tables.get("student", {}))
    return path


ConfigFile = Annotated[
    Optional[Path],
    typer.Option(
        "--config",
        is_eager=True,
        callback=_read_run_config,
        help="A whole run configuration (TOML): the command's options as top-level keys (dataset = "
        '"cora", methods = ["mlp", "glnn"], seeds = 10, ...) and config fields in \\[hparams.teacher] and '
        "\\[hparams.student] tables; the command line overrides it. `g2m config show --config FILE` prints "
        "what it resolves to.",
    ),
]


def config_file_tables(ctx: typer.Context) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    """``--config``'s file, and its ``[hparams.teacher]`` and ``[hparams.student]`` tables (empty without one)."""
    path, teacher, student = ctx.meta.get("g2m_config_file", (None, {}, {}))
    return (None if path is None else str(path)), dict(teacher), dict(student)


def layered(file_table: dict[str, Any], flags: dict[str, Any], set_pairs: dict[str, Any], who: str) -> dict[str, Any]:
    """A model's config overrides from the command: ``--config``'s table, under the named flags and
    ``--set`` (:func:`with_set`: one key given both ways on the command line is an error)."""
    return {**file_table, **with_set(flags, set_pairs, who)}


def parse_set(pairs: list[str] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``--set`` pairs as ``(teacher, student)`` overrides: ``teacher.KEY=VALUE`` goes to the
    teacher, a bare ``KEY=VALUE`` to the student; each value read as TOML (numbers, booleans,
    lists), a bare word as a string."""
    import tomllib

    teacher: dict[str, Any] = {}
    student: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise G2MError(f"--set {pair!r}: give KEY=VALUE, e.g. --set tau=2.0 or --set teacher.epochs=100")
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        if isinstance(value, list):
            value = tuple(value)
        target, name = (teacher, key.removeprefix("teacher.")) if key.startswith("teacher.") else (student, key)
        if name in ("method", "model"):
            raise G2MError(f"--set {key}: the method and the teacher are chosen by --method and --teacher")
        target[name] = value
    return teacher, student


def with_set(named: dict[str, Any], given: dict[str, Any], who: str) -> dict[str, Any]:
    """``named`` (the options given by their own flags) joined with ``--set``'s ``given``; one
    option given both ways is an error."""
    twice = sorted(set(named) & set(given))
    if twice:
        raise G2MError(f"{who} option {twice[0]!r} is given by its own flag and by --set: give it once")
    return {**named, **given}


def refuse_other_task(task: str, role: str, *layers: dict[str, Any]) -> None:
    """One error naming the first option given (not None) in ``layers`` (the named flags, then
    --set's) that is a field of the other task's ``role`` ("student" or "teacher") config only."""
    from dataclasses import fields

    from g2m.config import LinkStudentConfig, LinkTeacherConfig, StudentConfig, TeacherConfig

    node, link = (StudentConfig, LinkStudentConfig) if role == "student" else (TeacherConfig, LinkTeacherConfig)
    node_only = {f.name for f in fields(node)} - {f.name for f in fields(link)}
    link_only = {f.name for f in fields(link)} - {f.name for f in fields(node)}
    foreign = link_only if task == "node" else node_only
    for name, value in (item for layer in layers for item in layer.items()):
        if value is not None and name in foreign:
            other = "link" if task == "node" else "node"
            raise G2MError(
                f"--{name.replace('_', '-')} applies to --task {other}; this is a {task} run (see `g2m config "
                f"show --task {task}` for the options that apply)"
            )


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def check_output_dir(path: Path, option: str = "--out") -> Path:
    """Refuse, before any training, an output directory that cannot be created or written:
    a file on the way, or no write permission on the nearest existing folder."""
    path = Path(path)
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        where = "is a file" if probe == path else f"cannot be created: {probe} is a file"
        raise G2MError(f"{option} {path} {where}")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise G2MError(f"{option} {path} cannot be written: no write permission on {probe}")
    return path


def hold_output(ctx: typer.Context, path: Path, option: str = "--out") -> None:
    """Hold ``path``'s writer lock (:func:`g2m.locks.output_lock`) until the command ``ctx`` ends: a
    second g2m process writing the same folder is refused with one error naming this one."""
    from g2m.distributed import is_main
    from g2m.locks import output_lock

    if is_main():  # data-parallel: rank 0 writes, and holds the folder
        ctx.with_resource(output_lock(path, option))


def finish_run(
    out: Path, result: Results, command: list[str], progress_file: Path, checkpoints: Path, started_at: str | None
) -> None:
    """Write a finished run's results (:func:`save_result`), then drop its progress file and
    checkpoints, which only an unfinished run needs (rank 0 alone, data-parallel)."""
    import shutil

    from g2m.distributed import is_main

    save_result(out, result, command, started_at)
    if is_main():
        progress_file.unlink(missing_ok=True)
        shutil.rmtree(checkpoints, ignore_errors=True)


@contextmanager
def interrupt_note(progress_file: Path, checkpoints: Path, refresh: bool = False) -> Iterator[None]:
    """On Ctrl-C, one line saying what was kept (finished students, checkpoints of unfinished
    ones) and how to resume, then exit 130 (the shell's code for SIGINT). A ``--refresh`` run keeps
    nothing to resume from, and says so."""
    try:
        yield
    except KeyboardInterrupt:
        if refresh:
            typer.echo(
                "interrupted: a --refresh run keeps no finished student to resume from; run the command again "
                "(without --refresh, it reuses the teachers this run cached)",
                err=True,
            )
            raise typer.Exit(130) from None
        finished = (
            sum(1 for line in progress_file.read_text().splitlines() if line.strip()) if progress_file.is_file() else 0
        )
        saved = sorted(p.stem for p in checkpoints.glob("*.pt")) if checkpoints.is_dir() else []
        unfinished = f"; checkpoints of {', '.join(saved)} in {checkpoints}" if saved else ""
        typer.echo(
            f"interrupted: {finished} finished student(s) kept in {progress_file}{unfinished}; run the same "
            f"command again to resume",
            err=True,
        )
        raise typer.Exit(130) from None


def save_result(out: Path, result: Results, command: list[str], started_at: str | None = None) -> None:
    """Write ``results.json`` (with :func:`~g2m.evaluation.provenance.provenance`; ``started_at``: the
    commit when the run started) and ``results.md`` under ``out``, and print the table."""
    from g2m.distributed import is_main, world_size
    from g2m.evaluation.provenance import provenance
    from g2m.evaluation.report import write_results

    if not is_main():  # data-parallel: rank 0 writes the results
        return
    record: Results = {
        **result,
        "provenance": {**provenance(command, result.get("device"), started_at), "processes": world_size()},
    }
    json_path, md_path = write_results(out, record, result["table"])
    typer.echo(result["table"])
    typer.echo(f"wrote {json_path} and {md_path}")


def command_line(ctx: typer.Context) -> list[str]:
    """The command that is running: ``sys.argv`` when the ``g2m`` program was started, else
    (called in-process, e.g. by a test runner) the command rebuilt from the parsed options."""
    import sys

    from g2m.evaluation.provenance import g2m_argv

    argv = g2m_argv(sys.argv)
    if argv and argv[0] == "g2m":
        return argv
    words = ["g2m", *ctx.command_path.split()[1:]]
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if value is None or value == param.default or not param.opts:
            continue
        if isinstance(value, bool):
            words.append(param.opts[0] if value else (param.secondary_opts or [param.opts[0]])[0])
        else:
            for item in value if isinstance(value, (list, tuple)) else [value]:
                words += [param.opts[0], str(item)]
    return words


def refuse_inert(
    methods: list[str] | tuple[str, ...], teacher: str, given: dict[str, Any], spec: Any = None, task: str = "node"
) -> None:
    """Refuse a student option the user gave that none of ``methods`` would read, as configured by
    ``spec`` (the dataset's, or a recipe's, presets) and ``given`` (a field whose declaration says
    when it is inert, :class:`g2m.config.Inert`), naming what would make it count. ``task``
    ``link``: the link students' options."""
    from g2m.config import inert_options, link_student_config, student_config

    try:
        configs: list[Any]
        if task == "link":
            configs = [link_student_config(spec, method, **given) for method in methods]
        else:
            configs = [student_config(spec, method, teacher, **given) for method in methods]
    except ValueError as err:
        raise G2MError(str(err)) from None
    for name, inert in inert_options(configs[0], given).items():
        if all(name in inert_options(config, given) for config in configs[1:]):
            raise G2MError(f"{name} {inert.what} and changes nothing for {', '.join(methods)}: {inert.fix}")
