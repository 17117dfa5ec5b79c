"""Link-prediction halves of `g2m teacher | distill | run` (selected with --task link)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from g2m.cli.common import dataset_source, echo_json, finish_run, interrupt_note
from g2m.errors import G2MError

if TYPE_CHECKING:
    from g2m.experiments.link import LinkExperiment


def teacher_link(
    *,
    dataset: str,
    model: str,
    seed: int,
    setting: str,
    hparams: dict[str, Any],
    data_root: Path | None,
    cache_dir: Path | None,
    progress: bool,
    split_seed: int | None = None,
    refresh: bool = False,
    device: Any = None,
) -> None:
    """``split_seed``: the split to train on (default: the seed's own)."""
    from g2m.cache import TeacherCache
    from g2m.cache.keys import link_teacher_cache_key
    from g2m.config import link_teacher_config
    from g2m.data import get_spec, load_dataset
    from g2m.experiments.link import get_link_teacher, link_split_for, refuse_heuristic

    refuse_heuristic(model, "g2m teacher")
    graph, spec = load_dataset(dataset, data_root), get_spec(dataset)
    split = link_split_for(graph, spec, setting, seed if split_seed is None else split_seed)
    config = link_teacher_config(spec, model, **hparams)
    cache = TeacherCache.for_writing(cache_dir)
    _, _, scores, cached = get_link_teacher(graph, split, config, seed, cache, progress, refresh=refresh, device=device)
    echo_json(
        {
            "dataset": dataset,
            "task": "link",
            "model": model,
            "seed": seed,
            "setting": split.setting,
            "split": split.key(),
            "scores": scores,
            "from_cache": cached,
            "cache": str(cache.path(link_teacher_cache_key(graph.name, split, config, seed))),
        }
    )


def distill_link(
    *,
    dataset: str,
    teacher: str,
    method: str,
    seed: int,
    setting: str,
    hparams: dict[str, Any],
    out: Path,
    teacher_cache: Path | None,
    data_root: Path | None,
    cache_dir: Path | None,
    progress: bool,
    device: Any = None,
) -> None:
    """Distil one link student from the cached teacher, save it under ``out`` (its encoder and
    scorer: `g2m eval`, `g2m export`) and print its scores."""
    from g2m.cache import TeacherCache
    from g2m.cache.keys import link_teacher_cache_key
    from g2m.config import link_student_config, link_teacher_config
    from g2m.data import get_spec, load_dataset
    from g2m.experiments.link import get_link_teacher, link_split_for, link_student_meta, refuse_heuristic
    from g2m.students.io import save_link_student
    from g2m.training.link import distill_link_student

    refuse_heuristic(teacher, "g2m distill")  # before the graph is loaded and split
    graph, spec = load_dataset(dataset, data_root), get_spec(dataset)
    split = link_split_for(graph, spec, setting, seed)
    config = link_student_config(spec, method, **hparams)
    cache = TeacherCache(cache_dir)
    tcfg = link_teacher_config(spec, teacher)
    key = link_teacher_cache_key(graph.name, split, tcfg, seed)
    if teacher_cache is None and not cache.exists(key):
        raise G2MError(
            f"no cached {teacher} link teacher for {dataset} ({split.setting}, seed {seed}) in {cache.root}; "
            f"run `g2m teacher --task link --dataset {dataset} --model {teacher} --seed {seed}` first "
            "or pass --teacher-cache"
        )
    emb, scorer, _, _ = get_link_teacher(
        graph, split, tcfg, seed, cache, progress, path=str(teacher_cache) if teacher_cache else None, device=device
    )
    trained = distill_link_student(graph, split, emb, scorer, config, seed, progress, device=device)
    meta = link_student_meta(dataset, teacher, split, seed, trained.scores)
    save_link_student(out, trained.encoder, trained.scorer, config, meta)
    echo_json(
        {
            "dataset": dataset,
            "task": "link",
            "method": method,
            "seed": seed,
            "scores": trained.scores,
            "seconds_per_epoch": trained.fit.seconds_per_epoch,
            "saved": str(out),
        }
    )


def evaluate_link_student(student: Path, data_root: Path | None, graph_file: Path | None, dev: Any) -> None:
    """``g2m eval`` of a saved link student: its split rebuilt from ``student.json``, its Hits@K,
    MRR and ROC-AUC on that split's test pairs."""
    import torch

    from g2m.data import get_spec, load_dataset
    from g2m.experiments.link import rebuild_link_split
    from g2m.students.io import load_link_student
    from g2m.training.link import evaluate_link

    encoder, scorer, _, meta = load_link_student(student)
    if graph_file is None and meta["dataset"] == "own":
        raise G2MError(
            f"{student} was saved by g2m.distill_link from your own graph (dataset 'own'): give that graph with "
            f"--graph FILE (a torch_geometric Data saved with torch.save, or an .npz)"
        )
    dataset = meta["dataset"] if graph_file is None else dataset_source(meta["dataset"], graph_file, None)
    graph = load_dataset(dataset, data_root)
    if meta["dataset"] == "own":  # g2m.distill_link's graph holds no labels (a link task reads none)
        from g2m.data.graph import make_graph

        graph = make_graph(graph.name, graph.x, None, graph.edge_index, 0)
    split = rebuild_link_split(graph, get_spec(dataset), {**meta, "dataset": dataset})
    with torch.no_grad():
        h = encoder.to(dev)(graph.x.to(dev))
    scores = evaluate_link(h, scorer.to(dev), split)
    echo_json(
        {"dataset": dataset, "task": "link", "method": meta["config"]["method"], "seed": meta["seed"], "scores": scores}
    )


def run_link(
    exp: LinkExperiment,
    out: Path,
    command: list[str],
    progress: bool,
    device: Any = None,
    checkpoint_every: float = 60.0,
) -> None:
    """Run ``exp`` into ``out``, resumable (``OUT/progress.jsonl``, ``OUT/checkpoints``), and write its results."""
    from g2m.evaluation.provenance import git_commit
    from g2m.experiments.link import run_link_experiment
    from g2m.training.checkpoint import checkpoint_dir

    resume, checkpoints = out / "progress.jsonl", checkpoint_dir(out)
    started_at = git_commit()  # the code that runs, whatever the checkout holds when it ends
    with interrupt_note(resume, checkpoints, exp.refresh):
        result = run_link_experiment(
            exp,
            progress,
            resume=str(resume),
            device=device,
            checkpoints=str(checkpoints),
            checkpoint_seconds=checkpoint_every,
        )
    finish_run(out, result, command, resume, checkpoints, started_at)
