"""Which node teacher a student learns from: read from the cache, or trained and saved (one process
per entry, under the entry's lock; data-parallel ranks together), or retrained from the
hyper-parameters a damaged entry records."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from g2m import distributed as dist
from g2m.cache import CacheKey, TeacherCache, read_meta
from g2m.cache.keys import find_node_teacher, locate_node_teacher, teacher_cache_key
from g2m.config import TeacherConfig
from g2m.data.graph import Graph
from g2m.data.splits import NodeSplit
from g2m.errors import CacheCorruptError, CacheWarning, G2MError
from g2m.evaluation.metrics import node_scores
from g2m.methods import parse_node_teacher
from g2m.teachers.correct_smooth import ALPHA_GRID, correct_and_smooth_split
from g2m.teachers.knowledge import TeacherKnowledge
from g2m.training.node_teacher import NodeTeacherOutput, train_node_teacher


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


@dataclass(frozen=True)
class ChosenTeacher:
    """A node teacher as its students get it: its name (``sage``, ``gat+cs``), what it gives them,
    its scores, and how it was chosen."""

    name: str
    knowledge: TeacherKnowledge
    scores: dict[str, float]
    #: whether its GNN was read from the cache
    cached: bool
    #: its GNN's configuration
    config: TeacherConfig
    #: Correct and Smooth's (correction, smoothing) alphas, chosen on validation; None: no C&S
    alphas: tuple[float, float] | None = None
    #: every candidate's scores by name, in the order tried (the one teacher's, when it was named)
    candidates: dict[str, dict[str, float]] = field(default_factory=dict)
    #: seconds every candidate GNN took to train (whichever process trained it)
    train_seconds: float | None = None


def smoothed_teacher(
    knowledge: TeacherKnowledge, graph: Graph, split: NodeSplit, metric: str
) -> tuple[TeacherKnowledge, dict[str, float], tuple[float, float]]:
    """``knowledge`` with its logits after Correct and Smooth (:mod:`g2m.teachers.correct_smooth`),
    the two alphas chosen on validation from :data:`~g2m.teachers.correct_smooth.ALPHA_GRID` (the
    first best on a tie), with its scores and the alphas. The hidden layer and KRD's entropy shift
    stay the GNN's."""
    best: tuple[torch.Tensor, dict[str, float], tuple[float, float]] | None = None
    for alphas in ALPHA_GRID:
        logits = correct_and_smooth_split(knowledge.logits, graph, split, *alphas)
        scores = node_scores(logits, graph, split, metric)
        if best is None or scores["val"] > best[1]["val"]:
            best = (logits, scores, alphas)
    assert best is not None
    return replace(knowledge, logits=best[0]), best[1], best[2]


def choose_node_teacher(
    graph: Graph,
    split: NodeSplit,
    configs: Mapping[str, TeacherConfig],
    candidates: Sequence[str],
    seed: int,
    metric: str,
    cache: TeacherCache | None,
    progress: bool = True,
    refresh: bool = False,
    device: str | torch.device | None = None,
) -> ChosenTeacher:
    """The candidate teacher with the best **validation** score (the first on a tie): each GNN of
    ``candidates`` (``gcn``, ``sage+cs``, ...) trained or read by :func:`get_node_teacher` from its
    ``configs`` entry, once however many candidates share it, a ``+cs`` candidate followed by
    :func:`smoothed_teacher`. One candidate: that teacher, with or without Correct and Smooth."""
    if not candidates:
        raise ValueError("no candidate teachers to choose from")
    gnns: dict[str, tuple[TeacherKnowledge, dict[str, float], bool]] = {}
    table: dict[str, dict[str, float]] = {}
    best: ChosenTeacher | None = None
    for name in dict.fromkeys(candidates):
        base, smooth = parse_node_teacher(name)
        if base not in configs:
            raise ValueError(f"candidate teacher {name!r} has no configuration (given: {', '.join(configs)})")
        if base not in gnns:
            gnns[base] = get_node_teacher(graph, split, configs[base], seed, metric, cache, progress, refresh, device)
        knowledge, scores, cached = gnns[base]
        alphas = None
        if smooth:
            knowledge, scores, alphas = smoothed_teacher(knowledge, graph, split, metric)
        table[name] = scores
        if best is None or scores["val"] > best.scores["val"]:
            best = ChosenTeacher(name, knowledge, scores, cached, configs[base], alphas)
    assert best is not None
    seconds = [k.train_seconds for k, _, _ in gnns.values()]
    total = None if any(s is None for s in seconds) else sum(s for s in seconds if s is not None)
    return replace(best, candidates=table, train_seconds=total)


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
            **({} if out.layers is None else out.layers.tensors()),
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
