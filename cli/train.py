"""`g2m teacher | distill | run`: the training commands. Each parses its options (the config
flags generated from :mod:`g2m.config`, ``--set``), refuses what does not apply, and hands the
work to the node half (:mod:`g2m.cli.node`) or, with ``--task link``, the link half
(:mod:`g2m.cli.link`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from g2m.cli.common import (
    CacheDir,
    ConfigFile,
    DataRoot,
    Dataset,
    DeviceOpt,
    GraphFile,
    Quiet,
    Recipe,
    Refresh,
    Seed,
    SetOpt,
    Setting,
    SpecFile,
    Split,
    Threads,
    check_output_dir,
    command_line,
    compute_on,
    config_file_tables,
    dataset_source,
    hold_output,
    layered,
    overrides,
    parse_set,
    refuse_inert,
    refuse_other_task,
    refuse_run_only_teacher,
    teacher_for,
)
from g2m.cli.node import distill_node, run_node, teacher_node
from g2m.cli.options import NO_FLAGS, Flags, Given, config_flags
from g2m.config import LinkStudentConfig, LinkTeacherConfig, StudentConfig, TeacherConfig, help_of
from g2m.errors import G2MError
from g2m.methods import (
    BEST_TEACHER,
    CORRECT_SMOOTH,
    LINK_HEURISTICS,
    LINK_METHODS,
    NODE_COMPONENTS,
    NODE_METHODS,
    NODE_OBJECTIVES,
    NODE_TEACHERS,
    TEACHER_CANDIDATES,
    TEACHERS,
)

#: --teacher's choices, from the declarations the configs check
TEACHER_HELP = (
    "Node: "
    + " | ".join(NODE_TEACHERS)
    + ", any GNN followed by Correct and Smooth (sage+cs), or (g2m run) "
    + BEST_TEACHER
    + ": the one validation chooses per seed (--choose-from). Link: "
    + " | ".join(TEACHERS)
    + ", or a heuristic that needs no training (EHDM): "
    + " | ".join(LINK_HEURISTICS)
    + " (default: gcn for node, sage for link)."
)
#: how a method name may add student options (g2m.methods.NODE_COMPONENTS)
COMPOSE_HELP = "; any of them +" + "|".join(NODE_COMPONENTS) + " (e.g. glnn+position)"
#: the config fields with flags of their own (the rest: --set), each named once here; a flag's
#: type, help, choices and interval come from the field's declaration in g2m.config
_MODEL = ("hidden", "num_layers", "dropout", "norm", "lr", "weight_decay", "epochs", "patience")
_OBJECTIVE = ("lam", "tau", "chunk_size", "batch_size")  # node students
_LINK = ("scorer", "w_sup", "w_rank", "w_dist", "w_logit", "w_repr", "margin", "relational_scores", "rank_average")
_LLP = ("teacher_score_dropout", "walks", "hops", "random_ratio")  # link students
_SAMPLING = ("batch_size", "fanouts", "sampler")  # node teachers
TEACHER_FLAGS = Flags("teacher", (TeacherConfig, LinkTeacherConfig), (*_MODEL, "heads", "scorer", *_SAMPLING))
STUDENT_FLAGS = Flags("student", (StudentConfig, LinkStudentConfig), (*_MODEL, *_OBJECTIVE, *_LINK, *_LLP))
#: g2m run configures both: the students' objective flags bare, the model's three prefixed
#: (--epochs and --patience there set teacher and students alike)
_PREFIXED = ("hidden", "epochs", "patience")
RUN_STUDENT_FLAGS = Flags(
    "student",
    (StudentConfig, LinkStudentConfig),
    (*_OBJECTIVE, *_PREFIXED, *_LINK, *_LLP),
    rename={name: f"--student-{name}" for name in _PREFIXED},
    label="Students: ",
)
RUN_TEACHER_FLAGS = Flags(
    "teacher",
    (TeacherConfig, LinkTeacherConfig),
    _PREFIXED,
    rename={name: f"--teacher-{name}" for name in _PREFIXED},
    label="Teacher: ",
)
TeacherName = Annotated[
    Optional[str],
    typer.Option("--teacher", "-t", help=TEACHER_HELP),
]
InductiveFraction = Annotated[float, typer.Option(help="Share of test nodes held out in the inductive setting.")]
Task = Annotated[str, typer.Option(help="node (classification) | link (prediction)")]
TieBreak = Annotated[
    Optional[str],
    typer.Option(
        help="Teacher and students: " + help_of(StudentConfig, "tie_break") + " Default: later for node models, "
        "earlier for link models."
    ),
]
SplitSeed = Annotated[
    Optional[int],
    typer.Option(help="Link: use this seed's split for every seed (LLP's protocol); default: split k for seed k."),
]
TeacherSplitSeed = Annotated[
    Optional[int], typer.Option("--split-seed", help="Link: train on this seed's split (default: the split of --seed).")
]
TeacherSeed = Annotated[
    Optional[int],
    typer.Option(
        help="Link: one teacher, trained with this seed, for every seed (LLP's protocol); default: teacher k."
    ),
]


def _check_task(task: str) -> str:
    if task not in ("node", "link"):
        raise G2MError(f"unknown task {task!r}; choose node or link")
    return task


@config_flags(TEACHER_FLAGS)
def teacher(
    ctx: typer.Context,
    dataset: Dataset = "csbm",
    model: Annotated[
        Optional[str],
        typer.Option("--teacher", "-t", "--model", "-m", help=TEACHER_HELP),
    ] = None,
    seed: Seed = 0,
    setting: Setting = "transductive",
    split: Split = None,
    inductive_fraction: InductiveFraction = 0.2,
    task: Task = "node",
    split_seed: TeacherSplitSeed = None,
    refresh: Refresh = False,
    data_root: DataRoot = None,
    cache_dir: CacheDir = None,
    quiet: Quiet = False,
    device: DeviceOpt = "auto",
    threads: Threads = None,
    graph: GraphFile = None,
    spec: SpecFile = None,
    config_file: ConfigFile = None,
    set_: SetOpt = None,
    given: Given = NO_FLAGS,
) -> None:
    """Train a GNN teacher and cache its outputs (node: logits + hidden; link: embeddings + scorer)."""
    dev = compute_on(device, threads)
    t_set, s_set = parse_set(set_)
    t_file = config_file_tables(ctx)[1]  # a whole run's file: its [teacher] table
    hp = layered(t_file, given.teacher, {**s_set, **t_set}, "teacher")  # every --set key is the teacher's here
    dataset = dataset_source(dataset, graph, spec)
    model = teacher_for(task, model)
    refuse_run_only_teacher(model, "teacher")
    refuse_other_task(_check_task(task), "teacher", hp)
    if task == "link":
        from g2m.cli.link import teacher_link

        return teacher_link(
            dataset=dataset,
            model=model,
            seed=seed,
            setting=setting,
            hparams=hp,
            data_root=data_root,
            cache_dir=cache_dir,
            progress=not quiet,
            split_seed=split_seed,
            refresh=refresh,
            device=dev,
        )
    if split_seed is not None:
        raise G2MError("--split-seed applies to --task link (node splits follow --split and the seed)")
    teacher_node(
        dataset=dataset,
        model=model,
        seed=seed,
        setting=setting,
        split=split,
        inductive_fraction=inductive_fraction,
        hp=hp,
        data_root=data_root,
        cache_dir=cache_dir,
        progress=not quiet,
        refresh=refresh,
        dev=dev,
    )


@config_flags(STUDENT_FLAGS)
def distill(
    ctx: typer.Context,
    dataset: Dataset = "csbm",
    teacher_name: TeacherName = None,
    method: Annotated[
        Optional[str],
        typer.Option(
            help="Node: "
            + " | ".join(NODE_METHODS)
            + COMPOSE_HELP
            + " (default: ffg2m). Link (--task link): "
            + " | ".join(LINK_METHODS)
            + " (default: llp)"
        ),
    ] = None,
    seed: Seed = 0,
    setting: Setting = "transductive",
    split: Split = None,
    inductive_fraction: InductiveFraction = 0.2,
    out: Annotated[Path, typer.Option(help="Directory for the trained student.")] = Path("runs/student"),
    teacher_cache: Annotated[
        Optional[Path],
        typer.Option(help="A cache directory printed by `g2m teacher` (default: the only matching one)."),
    ] = None,
    task: Task = "node",
    data_root: DataRoot = None,
    cache_dir: CacheDir = None,
    quiet: Quiet = False,
    device: DeviceOpt = "auto",
    threads: Threads = None,
    graph: GraphFile = None,
    spec: SpecFile = None,
    teacher_logits: Annotated[
        Optional[Path],
        typer.Option(
            help="Your teacher's [N, C] logits (.pt tensor or .npy) instead of a cached teacher; inductive: observed "
            "nodes' logits from the observed graph, held-out nodes' from the full graph."
        ),
    ] = None,
    teacher_hidden_file: Annotated[
        Optional[Path],
        typer.Option(
            "--teacher-hidden",
            help="With --teacher-logits: the teacher's [N, H] hidden layer (.pt or .npy), for "
            "methods that match it (nosmog).",
        ),
    ] = None,
    config_file: ConfigFile = None,
    set_: SetOpt = None,
    given: Given = NO_FLAGS,
) -> None:
    """Train an MLP student from a cached teacher (run `g2m teacher` first) or your teacher's logits.

    --method lists the node and the link (--task link) methods."""
    dev = compute_on(device, threads)
    dataset = dataset_source(dataset, graph, spec)
    teacher_name = teacher_for(task, teacher_name)
    method = method or ("llp" if task == "link" else "ffg2m")
    refuse_run_only_teacher(teacher_name, "distill")
    check_output_dir(out)
    hold_output(ctx, out)
    if teacher_hidden_file is not None and teacher_logits is None:
        raise G2MError("--teacher-hidden goes with --teacher-logits (a cached teacher brings its own)")
    t_set, s_set = parse_set(set_)
    if t_set:
        raise G2MError("g2m distill reads a trained teacher: --set teacher.* applies to g2m teacher and g2m run")
    hp = layered(config_file_tables(ctx)[2], given.student, s_set, "student")  # the file's [student] table
    refuse_other_task(_check_task(task), "student", hp)
    if task == "link":
        if teacher_logits is not None:
            raise G2MError("--teacher-logits applies to node students (link students read a cached teacher)")
        from g2m.cli.link import distill_link
        from g2m.data import get_spec

        refuse_inert([method], teacher_name, hp, get_spec(dataset), task="link")
        return distill_link(
            dataset=dataset,
            teacher=teacher_name,
            method=method,
            seed=seed,
            setting=setting,
            hparams=hp,
            out=out,
            teacher_cache=teacher_cache,
            data_root=data_root,
            cache_dir=cache_dir,
            progress=not quiet,
            device=dev,
        )
    from g2m.data import get_spec

    refuse_inert([method], teacher_name, hp, get_spec(dataset))
    distill_node(
        dataset=dataset,
        teacher_name=teacher_name,
        method=method,
        seed=seed,
        setting=setting,
        split=split,
        inductive_fraction=inductive_fraction,
        hp=hp,
        out=out,
        teacher_cache=teacher_cache,
        teacher_logits=teacher_logits,
        teacher_hidden_file=teacher_hidden_file,
        data_root=data_root,
        cache_dir=cache_dir,
        progress=not quiet,
        dev=dev,
    )


@config_flags(RUN_STUDENT_FLAGS, RUN_TEACHER_FLAGS)
def run(
    ctx: typer.Context,
    dataset: Dataset = "csbm",
    teacher_name: TeacherName = None,
    methods: Annotated[str, typer.Option(help="Comma-separated: " + ",".join(NODE_METHODS) + COMPOSE_HELP)] = ",".join(
        NODE_OBJECTIVES
    ),
    seeds: Annotated[
        int, typer.Option(help="Number of seeds (0..N-1, or from --first-seed); reports mean and std.")
    ] = 5,
    first_seed: Annotated[
        int, typer.Option(help="Run seeds K..K+N-1 instead (split seeds across processes, then `g2m merge`).")
    ] = 0,
    setting: Setting = "transductive",
    split: Split = None,
    inductive_fraction: InductiveFraction = 0.2,
    out: Annotated[Path, typer.Option(help="Directory for results.json and results.md.")] = Path("results/run"),
    epochs: Annotated[Optional[int], typer.Option(help="Maximum epochs, teacher and students.")] = None,
    patience: Annotated[Optional[int], typer.Option(help="Early-stopping patience, teacher and students.")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Retrain teachers, write no cache.")] = False,
    refresh: Refresh = False,
    save_students: Annotated[
        Optional[Path],
        typer.Option(help="Also save every student, as DIR/<method>-seed<k> (for `g2m eval` / `g2m export`)."),
    ] = None,
    task: Task = "node",
    split_seed: SplitSeed = None,
    teacher_seed: TeacherSeed = None,
    data_root: DataRoot = None,
    cache_dir: CacheDir = None,
    quiet: Quiet = False,
    preset: Annotated[
        Optional[Path],
        typer.Option(help="A preset file (`g2m tune`'s preset.toml) layered over the dataset's presets."),
    ] = None,
    recipe: Recipe = None,
    tie_break: TieBreak = None,
    teacher_candidates: Annotated[
        int,
        typer.Option(
            help="Link: train this many teachers (seeds K..K+N-1) and keep the best on validation, as LLP's "
            "official protocol (10)."
        ),
    ] = 1,
    choose_from: Annotated[
        Optional[str],
        typer.Option(
            help="Node, with -t best: the teachers validation chooses among per seed, comma-separated: GNNs, "
            "and GNNs followed by Correct and Smooth (+cs). Default: "
            + ",".join(TEACHER_CANDIDATES)
            + ". Students must share their presets across them (e.g. --recipe glnn).",
        ),
    ] = None,
    device: DeviceOpt = "auto",
    threads: Threads = None,
    graph: GraphFile = None,
    spec: SpecFile = None,
    nproc: Annotated[
        int,
        typer.Option(
            min=1,
            help="Data-parallel processes on this machine: relaunches the command under torchrun "
            "(torch.distributed; gloo on the CPU, NCCL and one GPU each on CUDA). Mini-batch students "
            "(--batch-size) and mini-batch teachers (a preset's batch_size) split every batch over the "
            "processes; a full-batch teacher is trained by one of them.",
        ),
    ] = 1,
    checkpoint_every: Annotated[
        float,
        typer.Option(
            min=0,
            help="Seconds between two checkpoints of a training student (0: every epoch), kept in "
            "OUT/checkpoints so that an interrupted run resumes inside the student.",
        ),
    ] = 60.0,
    config_file: ConfigFile = None,
    set_: SetOpt = None,
    given: Given = NO_FLAGS,
) -> None:
    """Teacher, then every student method, over several seeds; writes JSON and a table.

    An interrupted run resumes: finished students are recorded in OUT/progress.jsonl
    and not retrained when the same command runs again, and a student that was training
    continues from its last checkpoint (OUT/checkpoints, every --checkpoint-every seconds).

    With --task link: default teacher sage, methods mlp,logit,repr,llp_rank,llp_dist,llp,
    settings transductive | production."""
    from g2m.distributed import is_main, launched_by_torchrun

    if nproc > 1 and not launched_by_torchrun():
        raise typer.Exit(_relaunch_under_torchrun(nproc, command_line(ctx)))
    dev = compute_on(device, threads)
    quiet = quiet or not is_main()  # data-parallel: rank 0 reports progress
    dataset = dataset_source(dataset, graph, spec)
    teacher_name = teacher_for(task, teacher_name, recipe if task == "node" else None)
    check_output_dir(out)
    if preset is not None and not preset.is_file():
        raise G2MError(f"--preset {preset}: no such file")
    hold_output(ctx, out)
    if save_students is not None:
        check_output_dir(save_students, "--save-students")
        if save_students.resolve() != out.resolve():
            hold_output(ctx, save_students, "--save-students")
    t_set, s_set = parse_set(set_)
    both = overrides(epochs=epochs, patience=patience, tie_break=tie_break)  # flags for teacher and students
    _, t_file, s_file = config_file_tables(ctx)
    student_hp = layered(s_file, {**both, **given.student}, s_set, "student")
    teacher_hp = layered(t_file, {**both, **given.teacher}, t_set, "teacher")
    chosen = [m.strip() for m in methods.split(",") if m.strip()]
    refuse_other_task(_check_task(task), "student", student_hp)
    refuse_other_task(task, "teacher", teacher_hp)
    if task == "link":
        if recipe is not None:
            raise G2MError("--recipe applies to node tasks (the recipes set node teachers and students)")
        from g2m.cli.link import run_link
        from g2m.methods import LINK_METHODS

        link_methods = LINK_METHODS if methods == ",".join(NODE_OBJECTIVES) else tuple(chosen)
        from g2m.data import get_spec

        refuse_inert(link_methods, teacher_name, student_hp, get_spec(dataset), task="link")
        from g2m.experiments.link import LinkExperiment

        try:
            link_exp = LinkExperiment(
                dataset,
                teacher_name,
                link_methods,
                seeds,
                setting,
                first_seed=first_seed,
                split_seed=split_seed,
                teacher_seed=teacher_seed,
                data_root=str(data_root) if data_root else None,
                cache_dir=str(cache_dir) if cache_dir else None,
                use_cache=not no_cache,
                teacher_overrides=teacher_hp,
                student_overrides=student_hp,
                refresh=refresh,
                preset=str(preset) if preset else None,
                teacher_candidates=teacher_candidates,
                save_students=str(save_students) if save_students else None,
            )
        except ValueError as err:
            raise G2MError(str(err)) from err
        return run_link(link_exp, out, command_line(ctx), not quiet, dev, checkpoint_every)
    if split_seed is not None or teacher_seed is not None or teacher_candidates != 1:
        raise G2MError(
            "--split-seed, --teacher-seed and --teacher-candidates apply to --task link "
            "(node splits follow --split, teachers the seed)"
        )
    from g2m.data import get_spec
    from g2m.experiments.node import NodeExperiment, experiment_spec

    if "best" in chosen:  # the dataset's validation-chosen student for this teacher
        try:
            best = get_spec(dataset).best_method(teacher_name.removesuffix(CORRECT_SMOOTH))
        except ValueError as err:
            raise G2MError(str(err)) from err
        typer.echo(f"best student recorded for {dataset} with a {teacher_name} teacher: {best}")
        chosen = list(dict.fromkeys(best if m == "best" else m for m in chosen))
    if choose_from is not None and teacher_name != BEST_TEACHER:
        raise G2MError(f"--choose-from goes with -t {BEST_TEACHER} (the teachers validation chooses among)")
    try:
        exp = NodeExperiment(
            dataset=dataset,
            teacher=teacher_name,
            methods=tuple(chosen),
            seeds=seeds,
            first_seed=first_seed,
            setting=setting,
            split=split,
            inductive_fraction=inductive_fraction,
            data_root=str(data_root) if data_root else None,
            cache_dir=str(cache_dir) if cache_dir else None,
            use_cache=not no_cache,
            refresh=refresh,
            save_students=str(save_students) if save_students else None,
            teacher_overrides=teacher_hp,
            student_overrides=student_hp,
            preset=str(preset) if preset else None,
            recipe=recipe,
            candidates=TEACHER_CANDIDATES
            if choose_from is None
            else tuple(c.strip() for c in choose_from.split(",") if c.strip()),
        )
        the_spec = experiment_spec(dataset, exp.preset, recipe, exp.teacher_models())
    except ValueError as err:
        raise G2MError(str(err)) from None
    refuse_inert(chosen, exp.teacher_models()[0], student_hp, the_spec)
    run_node(exp, out, command_line(ctx), not quiet, dev, checkpoint_every)


def _relaunch_under_torchrun(nproc: int, command: list[str]) -> int:
    """Run ``command`` (without ``--nproc``) as ``torchrun --standalone --nproc-per-node nproc -m
    g2m.cli.main ...``; its exit status (non-zero when any rank failed: torchrun stops the others)."""
    import subprocess
    import sys

    args = command[1:]
    if "--nproc" in args:
        at = args.index("--nproc")
        args = args[:at] + args[at + 2 :]
    args = [a for a in args if not a.startswith("--nproc=")]
    launch = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        str(nproc),
        "-m",
        "g2m.cli.main",
        *args,
    ]
    code = subprocess.run(launch, check=False).returncode
    if code:  # torchrun stopped every rank; rank 0 writes atomically, so nothing is half-written
        typer.echo(
            f"error: a data-parallel process failed (torchrun exit status {code}; its own output is "
            f"above); the run stopped and wrote no results",
            err=True,
        )
    return code
