"""Node-classification experiments over several seeds."""

from __future__ import annotations

import shutil
import time
import warnings
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from g2m import distributed as dist
from g2m.cache import CacheKey, TeacherCache, read_meta
from g2m.cache.keys import config_tag, find_node_teacher, locate_node_teacher, teacher_cache_key
from g2m.config import StudentConfig, TeacherConfig, student_config, teacher_config
from g2m.data.graph import Graph
from g2m.data.registry import load_dataset
from g2m.data.specs import DatasetSpec, get_spec, read_preset, with_preset, with_recipe
from g2m.data.splits import NodeSplit, make_node_split, protocol_graph
from g2m.device import device_record, resolve_device
from g2m.errors import CacheCorruptError, CacheWarning, G2MError
from g2m.evaluation.homophily import homophily_report, warn_if_heterophilous
from g2m.evaluation.report import markdown_table, summarize
from g2m.evaluation.results import Results, RunRow, SummaryRow
from g2m.experiments.progress import RunLog, fingerprint, reuse_or_train
from g2m.experiments.seeds import check_seed_range, seed_range, seeds_label
from g2m.losses.objectives import check_method
from g2m.methods import NODE_TEACHERS
from g2m.students.io import save_student
from g2m.teachers.knowledge import TeacherKnowledge
from g2m.training.checkpoint import student_checkpoint
from g2m.training.node_student import DISTILLED, LABELS, UNWEIGHTED, distill_node_student
from g2m.training.node_teacher import NodeTeacherOutput, train_node_teacher


def experiment_spec(
    dataset: str, preset: str | None, recipe: str | None = None, teacher: str | None = None
) -> DatasetSpec:
    """The dataset's spec: its node presets replaced by a recipe's (:func:`~g2m.data.specs.with_recipe`,
    checked against ``teacher``), then a ``g2m tune`` preset file layered over them."""
    spec = get_spec(dataset)
    if recipe is not None:
        spec = with_recipe(spec, recipe, teacher)
    return spec if preset is None else with_preset(spec, read_preset(preset))


def get_node_teacher(
    graph: Graph,
    split: NodeSplit,
    config: TeacherConfig,
    seed: int,
    metric: str,
    cache: TeacherCache | None,
    progress: bool = True,
    refresh: bool = False,
    device: str | torch.device | None = None,
) -> tuple[TeacherKnowledge, dict[str, float], bool]:
    """What a student may learn from the teacher, and the teacher's scores, from the cache when
    present (third value ``True``), else trained and (with a cache) saved; ``refresh`` retrains
    a cached one."""
    key = teacher_cache_key(graph.name, split, config, seed)
    if cache is None:
        out = train_node_teacher(graph, split, config, seed, metric, progress, device)
        return out.knowledge(), out.scores, False
    lock = cache.entry_lock(key, f"the {config.model} teacher of {graph.name} (seed {seed})")
    if dist.is_distributed() and config.batch_size is not None:
        return _get_parallel_teacher(graph, split, config, seed, metric, cache, key, lock, progress, refresh, device)
    # one process trains a given teacher; another asking for it meanwhile waits, then reads it
    with lock:
        record = cache.lookup(key, refresh, announce=progress)
        if record is not None:
            return TeacherKnowledge.from_tensors(record.tensors, record.meta), record.meta["scores"], True
        out = train_node_teacher(graph, split, config, seed, metric, progress, device)
        save_node_teacher(cache, key, out, config, split, metric)
    return out.knowledge(), out.scores, False


def _get_parallel_teacher(
    graph: Graph,
    split: NodeSplit,
    config: TeacherConfig,
    seed: int,
    metric: str,
    cache: TeacherCache,
    key: CacheKey,
    lock: AbstractContextManager[Any],
    progress: bool,
    refresh: bool,
    device: str | torch.device | None,
) -> tuple[TeacherKnowledge, dict[str, float], bool]:
    """:func:`get_node_teacher` for a mini-batch teacher in a process group: rank 0 holds the
    cache entry's lock and looks the teacher up; when it is missing, every rank trains it
    together (:func:`~g2m.training.node_teacher.train_node_teacher`, data-parallel). Transductive (with
    accuracy), each rank then writes its own rows of the entry and every rank reads the whole
    memory-mapped (:meth:`~g2m.cache.TeacherCache.save_row_shards`): no rank gathers every node's
    logits. Otherwise the outputs are gathered and rank 0 writes the entry."""
    record = None
    by_rows = not cache.read_only and not split.test_ind.numel() and metric == "accuracy"
    with lock if dist.is_main() else nullcontext():
        if dist.is_main():
            record = cache.lookup(key, refresh, announce=progress)
        found = [record is not None]
        torch.distributed.broadcast_object_list(found, src=0)
        if not found[0]:
            out = train_node_teacher(graph, split, config, seed, metric, progress, device, gather=not by_rows)
            if by_rows:
                tensors = {"logits": out.logits, "hidden": out.hidden}
                cache.save_row_shards(key, tensors, graph.num_nodes, node_teacher_meta(out, config, split, metric))
            elif dist.is_main():
                save_node_teacher(cache, key, out, config, split, metric)
        dist.barrier()  # the entry is written before any rank reads it or rank 0 lets the lock go
    if not found[0] and not by_rows:
        return out.knowledge(), out.scores, False
    if not found[0]:  # every rank reads the entry its rows went into (rank 0 hashed it as it wrote it)
        written = cache.load(key, verify=False)
        knowledge = TeacherKnowledge.from_tensors(written.tensors, written.meta)
        return knowledge, out.scores, False
    if record is None:  # the other ranks read the entry rank 0 found
        record = cache.lookup(key)
    if record is None:
        raise G2MError(f"rank {dist.rank()} cannot read the cached teacher {cache.path(key)} rank 0 found")
    return TeacherKnowledge.from_tensors(record.tensors, record.meta), record.meta["scores"], True


def save_node_teacher(
    cache: TeacherCache, key: CacheKey, out: NodeTeacherOutput, config: TeacherConfig, split: NodeSplit, metric: str
) -> Path | None:
    """Write a trained node teacher's logits and hidden layer, with the meta every reader expects."""
    return cache.save(
        key,
        {
            "logits": out.logits,
            "hidden": out.hidden,
            **({} if out.entropy_shift is None else {"entropy_shift": out.entropy_shift}),
            **({} if out.tokens is None else {"code_input": out.tokens.code_input, "codebook": out.tokens.codebook}),
        },
        node_teacher_meta(out, config, split, metric),
    )


def node_teacher_meta(out: NodeTeacherOutput, config: TeacherConfig, split: NodeSplit, metric: str) -> dict[str, Any]:
    """What a node teacher's cache entry records beside its tensors (every reader expects it)."""
    return {
        "scores": out.scores,
        "hparams": asdict(config),
        "metric": metric,
        "setting": split.setting,
        "split_name": split.name,
        "epochs_run": out.fit.epochs_run,
        "seconds_per_epoch": out.fit.seconds_per_epoch,
        "train_seconds": out.fit.seconds,
    }


def cached_node_teacher(
    graph: Graph,
    split: NodeSplit,
    cache: TeacherCache,
    teacher: str,
    seed: int,
    metric: str,
    path: str | None = None,
    progress: bool = True,
    device: str | torch.device | None = None,
) -> TeacherKnowledge:
    """What the cached teacher gives its students (:func:`find_node_teacher`). An entry whose tensors
    cannot be read but whose ``meta.json`` can is retrained with the hyper-parameters it
    records (a :class:`~g2m.errors.CacheWarning` names it); one whose ``meta.json`` cannot
    be read is removed, and the error says how to train it again."""
    where = locate_node_teacher(cache, graph.name, split, teacher, seed, path)
    try:
        return TeacherKnowledge.from_tensors(
            find_node_teacher(cache, graph.name, split, teacher, seed, str(where)).tensors
        )
    except CacheCorruptError as err:
        try:
            hparams = read_meta(where)["hparams"]
            config = TeacherConfig(**{**hparams, "fanouts": tuple(hparams["fanouts"])})
        except (CacheCorruptError, OSError, ValueError, KeyError, TypeError):
            shutil.rmtree(where, ignore_errors=True)
            raise CacheCorruptError(
                f"{err}; the entry was removed: run `g2m teacher --dataset {graph.name} --model {teacher} "
                f"--seed {seed} --setting {split.setting}` to train it again"
            ) from None
        warnings.warn(
            f"{err}: retraining it with the hyper-parameters its meta.json records", CacheWarning, stacklevel=2
        )
        root = TeacherCache(where.parents[4])  # <root>/<dataset>/node/<split>/<model>/seed<k>
        return get_node_teacher(graph, split, config, seed, metric, root, progress, refresh=True, device=device)[0]


@dataclass
class NodeExperiment:
    dataset: str
    teacher: str = "gcn"
    methods: tuple[str, ...] = ("mlp", "glnn", "lfd", "hfd", "ffg2m")
    seeds: int = 5
    setting: str = "transductive"
    first_seed: int = 0  # seeds first_seed .. first_seed + seeds - 1
    split: str | None = None  # None: the dataset's default protocol
    inductive_fraction: float = 0.2
    data_root: str | None = None
    cache_dir: str | None = None
    use_cache: bool = True
    teacher_overrides: dict[str, Any] = field(default_factory=dict)
    student_overrides: dict[str, Any] = field(default_factory=dict)
    dataset_overrides: dict[str, Any] = field(default_factory=dict)
    refresh: bool = False  # retrain teachers even when cached
    save_students: str | None = None  # a directory: every student saved as <method>-seed<k>/
    preset: str | None = None  # a preset file (`g2m tune`'s preset.toml) layered over the dataset's
    recipe: str | None = None  # a paper's teacher and student loop (g2m/specs/recipes), replacing the dataset's

    def __post_init__(self) -> None:
        if self.teacher not in NODE_TEACHERS:
            raise ValueError(f"unknown teacher {self.teacher!r}; choose one of {NODE_TEACHERS}")
        if not self.methods:
            raise ValueError("no student methods given (e.g. --methods mlp,glnn,ffg2m)")
        for m in self.methods:
            check_method(m)
        check_seed_range(self.first_seed, self.seeds)


def _with_prod(scores: dict[str, float], fraction: float) -> dict[str, float]:
    """GLNN's production score (``train_student.py``): ``(1 - f) * tran + f * ind``, where
    ``f`` is the share of test nodes held out (0.2: ``0.8 tran + 0.2 ind``)."""
    if "test_ind" not in scores:
        return scores
    return {**scores, "prod": (1.0 - fraction) * scores["test"] + fraction * scores["test_ind"]}


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


def node_result_table(
    summary: list[SummaryRow],
    title: str,
    homophily: dict[str, Any] | None,
    runs: list[RunRow] | None = None,
) -> str:
    """A node result's Markdown table, with a line under it on the graph's measured
    homophily and the estimate made before distilling (results without one: the table),
    and one per guarded method on the guard's choices (:func:`guard_lines`)."""
    table = markdown_table(summary, title)
    guards = guard_lines(runs or [])
    if guards:
        table += "\n" + "\n".join(f"- {line}" for line in guards) + "\n"
    if homophily is None:
        return table
    est = [e["estimate"] for e in homophily["per_seed"]]
    return table + (
        f"\nEdge homophily {homophily['edge']:.2f}, adjusted {homophily['adjusted']:.2f}; "
        f"estimated before distilling (adjusted): {min(est):.2f} to {max(est):.2f}.\n"
    )


def student_meta(
    dataset: str, teacher: str, split: NodeSplit, inductive_fraction: float, metric: str, scores: dict[str, float]
) -> dict[str, Any]:
    """What a saved student records so that `g2m eval` can rebuild its split."""
    return {
        "dataset": dataset,
        "teacher": teacher,
        "seed": split.seed,
        "setting": split.setting,
        "split": split.name,
        "split_key": split.key(),
        "inductive_fraction": inductive_fraction,
        "metric": metric,
        "scores": scores,
    }


def _student_dir(exp: NodeExperiment, method: str, seed: int) -> Path:
    return Path(exp.save_students or ".") / f"{method}-seed{seed}"


def run_node_experiment(
    exp: NodeExperiment,
    progress: bool = True,
    resume: str | None = None,
    device: str | torch.device | None = None,
    checkpoints: str | None = None,
    checkpoint_seconds: float = 60.0,
) -> Results:
    """Teacher and every student method over the experiment's seeds, on ``device`` (default
    ``auto``; recorded in the result, not part of the experiment: parts run on other devices
    merge).

    ``resume``: a progress file (JSON lines); every finished student is recorded there,
    and students already recorded for this experiment and configuration are not
    retrained. The caller removes it once the results are written.

    ``checkpoints``: a folder where each student saves its training state every
    ``checkpoint_seconds`` (:mod:`g2m.training.checkpoint`), so that a resumed run continues an
    interrupted student where it stopped, with the result an uninterrupted run gives.

    ``compute_seconds`` in the result is the training time of every teacher and student in the
    table, whichever process trained it (a resumed student counts its time before the
    interruption; a teacher read from the cache counts the time it took to train)."""
    device = resolve_device(device)
    spec = experiment_spec(exp.dataset, exp.preset, exp.recipe, exp.teacher)
    if spec.task != "node":
        raise ValueError(f"dataset {exp.dataset!r} is a {spec.task} dataset, not node classification")
    split_name = exp.split or spec.split
    graph = protocol_graph(
        dist.main_first(lambda: load_dataset(exp.dataset, exp.data_root, **exp.dataset_overrides)), split_name
    )
    metric = spec.metric
    tcfg = teacher_config(spec, exp.teacher, **exp.teacher_overrides)
    scfgs: dict[str, StudentConfig] = {
        m: student_config(spec, m, exp.teacher, **exp.student_overrides) for m in exp.methods
    }
    coded = [m for m, cfg in scfgs.items() if cfg.token_weight > 0]
    if coded and tcfg.model != "vqgcn":
        raise ValueError(
            f"{', '.join(coded)} distil VQGraph's codes, which a {tcfg.model} teacher has none of: use -t vqgcn "
            "(or --recipe vqgraph)"
        )
    cache = TeacherCache(exp.cache_dir) if exp.use_cache else None
    log = None
    if resume is not None and not exp.refresh:
        log = RunLog(
            resume,
            fingerprint(
                exp.dataset, exp.setting, split_name, exp.inductive_fraction, exp.dataset_overrides, exp.teacher
            ),
            announce=progress,
        )
    runs: list[RunRow] = []
    estimates: list[dict[str, Any]] = []
    started = time.perf_counter()
    for seed in seed_range(exp.first_seed, exp.seeds):
        split = make_node_split(graph, split_name, exp.setting, seed, exp.inductive_fraction)
        knowledge, t_scores, cached = get_node_teacher(
            graph, split, tcfg, seed, metric, cache, progress, exp.refresh, device
        )
        logits = knowledge.logits
        report = homophily_report(
            graph.edge_index, graph.require_labels(), torch.cat([split.train, split.val]), logits.argmax(-1)
        )
        if not estimates:
            warn_if_heterophilous(report, exp.methods, exp.dataset)
        estimates.append({"seed": seed, **report.as_dict()})
        runs.append(
            {
                "model": f"teacher ({exp.teacher})",
                "seed": seed,
                "cached": cached,
                **_with_prod(t_scores, exp.inductive_fraction),
                **({} if knowledge.train_seconds is None else {"seconds": knowledge.train_seconds}),
            }
        )
        for method, scfg in scfgs.items():
            tag = f"{config_tag(tcfg)}-{config_tag(scfg)}-{split.key()}"

            def train() -> RunRow:  # called at once, in this iteration
                ckpt = student_checkpoint(checkpoints, method, seed, tag, checkpoint_seconds)
                out = distill_node_student(
                    graph,
                    split,
                    knowledge,
                    scfg,
                    seed,
                    metric,
                    progress,
                    device=device,
                    checkpoint=ckpt,
                )
                if exp.save_students is not None:
                    meta = student_meta(exp.dataset, exp.teacher, split, exp.inductive_fraction, metric, out.scores)
                    save_student(
                        _student_dir(exp, method, seed), out.model, scfg, {**meta, **out.guard_record()}, out.position
                    )
                return {
                    "model": method,
                    "seed": seed,
                    **_with_prod(out.scores, exp.inductive_fraction),
                    "epochs_run": out.fit.epochs_run,
                    "seconds_per_epoch": out.fit.seconds_per_epoch,
                    "seconds": out.fit.seconds,
                    **out.guard_record(),
                }

            # a saved student must still be on disk for its row to be reused
            reuse = exp.save_students is None or _student_dir(exp, method, seed).is_dir()
            runs.append(reuse_or_train(log, method, seed, tag, train, reuse))
    summary = summarize(runs)
    title = (
        f"{exp.dataset}, {split_name} split, {exp.setting}, {exp.teacher} teacher, {metric} (%), "
        f"{seeds_label(exp.first_seed, exp.seeds)}"
    )
    homophily = {"edge": estimates[0]["edge"], "adjusted": estimates[0]["adjusted"], "per_seed": estimates}
    return {
        "experiment": asdict(exp),
        "metric": metric,
        "teacher_config": asdict(tcfg),
        "student_configs": {m: asdict(c) for m, c in scfgs.items()},
        "runs": runs,
        "summary": summary,
        "title": title,
        "homophily": homophily,
        "table": node_result_table(summary, title, homophily, runs),
        "seconds": time.perf_counter() - started,
        "compute_seconds": sum(r.get("seconds", 0.0) for r in runs),
        "torch_threads": torch.get_num_threads(),  # the digits depend on it (see the link runner)
        "device": device_record(device),
    }
