"""The node halves of `g2m teacher | distill | run` (:mod:`g2m.cli.train`), and the node-only
commands `g2m eval | export`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from g2m.cli.common import (
    DataRoot,
    DeviceOpt,
    Threads,
    compute_on,
    dataset_source,
    echo_json,
    finish_run,
    interrupt_note,
)
from g2m.errors import G2MError

if TYPE_CHECKING:
    from g2m.experiments.node import NodeExperiment


def _split(dataset: str, data_root, setting: str, split: str | None, seed: int, fraction: float):
    from g2m.data import get_spec, load_dataset, make_node_split
    from g2m.data.splits import protocol_graph

    spec = get_spec(dataset)
    split = split or spec.split
    graph = protocol_graph(load_dataset(dataset, data_root), split)
    return graph, spec, make_node_split(graph, split, setting, seed, fraction)


def teacher_node(
    *,
    dataset: str,
    model: str,
    seed: int,
    setting: str,
    split: str | None,
    inductive_fraction: float,
    hp: dict[str, Any],
    data_root: Path | None,
    cache_dir: Path | None,
    progress: bool,
    refresh: bool,
    dev: Any,
) -> None:
    """Train (or read from the cache) a node teacher with options ``hp`` and print its scores."""
    from g2m.cache import TeacherCache
    from g2m.cache.keys import teacher_cache_key
    from g2m.config import teacher_config
    from g2m.experiments.teachers import get_node_teacher

    g, dspec, node_split = _split(dataset, data_root, setting, split, seed, inductive_fraction)
    config = teacher_config(dspec, model, **hp)
    cache = TeacherCache.for_writing(cache_dir)
    _, scores, cached = get_node_teacher(g, node_split, config, seed, dspec.metric, cache, progress, refresh, dev)
    key = teacher_cache_key(g.name, node_split, config, seed)
    echo_json(
        {
            "dataset": dataset,
            "model": model,
            "seed": seed,
            "setting": setting,
            "metric": dspec.metric,
            "scores": scores,
            "from_cache": cached,
            "cache": str(cache.path(key)),
            "device": str(dev),
        }
    )


def distill_node(
    *,
    dataset: str,
    teacher_name: str,
    method: str,
    seed: int,
    setting: str,
    split: str | None,
    inductive_fraction: float,
    hp: dict[str, Any],
    out: Path,
    teacher_cache: Path | None,
    teacher_logits: Path | None,
    teacher_hidden_file: Path | None,
    data_root: Path | None,
    cache_dir: Path | None,
    progress: bool,
    dev: Any,
) -> None:
    """Train a node student with options ``hp`` from the cached teacher (or the user's logits), save
    it under ``out`` and print its scores."""
    from g2m.cache import TeacherCache
    from g2m.config import student_config
    from g2m.experiments.node import student_meta
    from g2m.experiments.teachers import cached_node_teacher
    from g2m.students.io import save_student
    from g2m.training.node_student import distill_node_student

    g, dspec, node_split = _split(dataset, data_root, setting, split, seed, inductive_fraction)
    scfg = student_config(dspec, method, teacher_name, **hp)
    knowledge = None
    if teacher_logits is not None:
        from g2m.students.io import read_tensor_file
        from g2m.teachers.knowledge import TeacherKnowledge

        teacher_name = "own"
        if scfg.reliability == "krd":
            raise G2MError(
                "krd needs the teacher's entropy shift under feature noise, which a logits file cannot give: "
                "distil from a teacher g2m trained (g2m teacher, then g2m distill without --teacher-logits), or "
                "from Python with g2m.distill and the teacher module"
            )
        if scfg.similarity_weight > 0 and teacher_hidden_file is None:
            raise G2MError(
                f"{method} matches the teacher's hidden layer: give it with --teacher-hidden FILE ([N, H], one row "
                f"per node) beside --teacher-logits"
            )
        knowledge = TeacherKnowledge(
            read_tensor_file(teacher_logits, "--teacher-logits"),
            None if teacher_hidden_file is None else read_tensor_file(teacher_hidden_file, "--teacher-hidden"),
        )
    elif scfg.objective != "mlp" or scfg.similarity_weight > 0:
        knowledge = cached_node_teacher(
            g,
            node_split,
            TeacherCache(cache_dir),
            teacher_name,
            seed,
            dspec.metric,
            str(teacher_cache) if teacher_cache else None,
            progress,
            dev,
        )
    result = distill_node_student(
        g,
        node_split,
        knowledge,
        scfg,
        seed,
        dspec.metric,
        progress,
        device=dev,
    )
    guard = result.guard_record()  # which candidate a guarded method kept, and each one's validation score
    save_student(
        out,
        result.model,
        scfg,
        {**student_meta(dataset, teacher_name, node_split, inductive_fraction, dspec.metric, result.scores), **guard},
        result.position,
    )
    echo_json(
        {
            "dataset": dataset,
            "method": method,
            "seed": seed,
            "scores": result.scores,
            **guard,
            "saved": str(out),
            "device": str(dev),
        }
    )


def run_node(
    exp: NodeExperiment, out: Path, command: list[str], progress: bool, dev: Any, checkpoint_every: float
) -> None:
    """Run ``exp`` into ``out``, resumable (``OUT/progress.jsonl``, ``OUT/checkpoints``), and write its results."""
    from g2m.evaluation.provenance import git_commit
    from g2m.experiments.node import run_node_experiment
    from g2m.training.checkpoint import checkpoint_dir

    resume, checkpoints = out / "progress.jsonl", checkpoint_dir(out)
    started_at = git_commit()  # the code that runs, whatever the checkout holds when it ends
    with interrupt_note(resume, checkpoints, exp.refresh):
        result = run_node_experiment(
            exp,
            progress=progress,
            resume=str(resume),
            device=dev,
            checkpoints=str(checkpoints),
            checkpoint_seconds=checkpoint_every,
        )
    finish_run(out, result, command, resume, checkpoints, started_at)


def rebuild_student_split(meta: dict, data_root: Optional[Path]):
    """The graph and split a saved student was trained on, rebuilt from its ``student.json``."""
    graph, _, node_split = _split(
        meta["dataset"], data_root, meta["setting"], meta["split"], meta["seed"], meta["inductive_fraction"]
    )
    stored, rebuilt = meta["split_key"], node_split.key()
    if not stored.rsplit("-", 1)[-1].startswith("g"):  # saved before split keys named their graph ("-g<hash>")
        rebuilt = rebuilt.removesuffix(f"-g{node_split.graph_key}")
    if rebuilt != stored:
        raise G2MError(f"the split rebuilt for {meta['dataset']} differs from the one the student was trained on")
    return graph, node_split


def evaluate(
    student: Annotated[Path, typer.Option("--student", "-s", help="Directory written by `g2m distill`.")],
    data_root: DataRoot = None,
    device: DeviceOpt = "auto",
    threads: Threads = None,
    graph: Annotated[
        Optional[Path],
        typer.Option(
            "--graph",
            help="The graph file the student was trained on, when it is not the dataset its student.json "
            "names (a student saved by g2m.distill's DistillResult.save).",
        ),
    ] = None,
) -> None:
    """Evaluate a saved student (node or link) on the split it was trained for."""
    dev = compute_on(device, threads)
    from g2m.evaluation.metrics import node_scores
    from g2m.students.io import load_student, student_inputs, student_task
    from g2m.training.node_student import predict

    if student_task(student) == "link":
        from g2m.cli.link import evaluate_link_student

        return evaluate_link_student(student, data_root, graph, dev)
    model, _, meta = load_student(student)
    missing = [k for k in ("dataset", "setting", "split", "seed", "split_key", "metric") if k not in meta]
    if missing:
        raise G2MError(
            f"{student}/student.json records no {', '.join(missing)}: g2m eval rebuilds the student's "
            f"split from them; save students with `g2m distill`, `g2m run --save-students` or "
            f"g2m.distill(...).save(path, dataset=...)"
        )
    if graph is not None:
        meta = {**meta, "dataset": dataset_source(meta["dataset"], graph, None)}
    elif meta["dataset"] == "own":
        raise G2MError(
            f"{student} was saved by g2m.distill from your own graph (dataset 'own'): give that graph with "
            f"--graph FILE (a torch_geometric Data saved with torch.save, or an .npz), or save the student with "
            f"DistillResult.save(path, dataset=...)"
        )
    graph_obj, node_split = rebuild_student_split(meta, data_root)
    logits = predict(model.to(dev), student_inputs(student, meta, graph_obj.x).to(dev))
    scores = node_scores(logits, graph_obj, node_split, meta["metric"])
    echo_json(
        {
            "dataset": meta["dataset"],
            "method": meta["config"]["method"],
            "seed": meta["seed"],
            "metric": meta["metric"],
            "scores": scores,
        }
    )


def export(
    student: Annotated[Path, typer.Option("--student", "-s", help="Directory written by `g2m distill`.")],
    out: Annotated[Path, typer.Option(help="Output file, loadable with g2m.students.export.load_exported.")] = Path(
        "runs/student.pt2"
    ),
    quantize: Annotated[
        Optional[str],
        typer.Option(
            help="int8 (dynamic int8 Linear layers, TorchScript file) or bf16 (bfloat16 weights, torch.export "
            "program); default: float32. `g2m bench serving` measures what each costs in accuracy."
        ),
    ] = None,
) -> None:
    """Export a trained student for serving (plain PyTorch, no PyG, no g2m needed to load it): a node
    student maps node features to logits, a link student the two ends' features to a link logit."""
    from g2m.students.export import LinkPredictor, export_student
    from g2m.students.io import load_link_student, load_student, student_task

    if quantize not in (None, "int8", "bf16"):
        raise typer.BadParameter(f"--quantize must be int8 or bf16, got {quantize!r}")
    precision = quantize or "fp32"
    if student_task(student) == "link":
        encoder, scorer, _, meta = load_link_student(student)
        path = export_student(LinkPredictor(encoder, scorer), meta["in_dim"], out, precision)
        shapes = {"input": f"x_u, x_v: [batch, {meta['in_dim']}] features of each pair's two ends", "output": "[batch]"}
    else:
        model, _, meta = load_student(student)
        path = export_student(model, meta["in_dim"], out, precision)
        shapes = {"in_dim": meta["in_dim"], "out_dim": meta["out_dim"]}
    load = f"torch.jit.load({str(path)!r})" if precision == "int8" else f"torch.export.load({str(path)!r}).module()"
    info = {"exported": str(path), "precision": precision, **shapes, "bytes": path.stat().st_size, "load_with": load}
    if meta.get("position_dim"):  # its input ends with the node's row of the saved position table
        info["input"] = (
            f"node features followed by the node's {meta['position_dim']} position features "
            f"({student / 'position.pt'}; an unseen node: the mean of its observed neighbours' rows)"
        )
    echo_json(info)
