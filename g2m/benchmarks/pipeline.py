"""One dataset end to end, stage by stage: wall time and peak memory of each stage.

Stages: load the graph, build the split, train the teacher (mini-batches when its preset
says so), run it on every node and write the teacher cache, distil the student (mini-batches
when its preset says so) from the cached logits, evaluate. The teacher and student configs
come from the dataset's TOML like every other command, so the same pipeline takes the
products-like synthetic graph, ``ogbn-products`` or ``ogbn-arxiv`` unchanged.

Peak memory is the process' resident-set high-water mark during the stage (the kernel's
mark is reset before each stage; see :mod:`g2m.evaluation.machine`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from g2m.evaluation.machine import machine_info, peak_rss_mib, reset_peak_rss, rss_mib

T = TypeVar("T")


def _stage(rows: list[dict[str, Any]], name: str, fn: Callable[[], T], echo: Callable[[str], None] | None) -> T:
    reset = reset_peak_rss()
    start = time.perf_counter()
    value = fn()
    row = {
        "stage": name,
        "seconds": time.perf_counter() - start,
        "peak_rss_mib": peak_rss_mib(),
        "rss_after_mib": rss_mib(),
        "peak_reset": reset,
    }
    rows.append(row)
    if echo is not None:
        echo(f"{name}: {row['seconds']:.1f} s, peak RSS {row['peak_rss_mib']:.0f} MiB")
    return value


def run_pipeline(
    dataset: str,
    teacher: str = "sage",
    method: str = "ffg2m",
    seed: int = 0,
    data_root: str | None = None,
    cache_dir: str | Path | None = None,
    teacher_overrides: dict[str, Any] | None = None,
    student_overrides: dict[str, Any] | None = None,
    loader_overrides: dict[str, Any] | None = None,
    progress: bool = True,
    echo: Callable[[str], None] | None = print,
    device: Any = None,
) -> dict[str, Any]:
    """Run every stage once on ``device`` (default ``auto``); returns the stage rows, scores and the
    configs used."""
    import torch

    from g2m.device import resolve_device

    device = resolve_device(device)
    from g2m.cache import TeacherCache
    from g2m.cache.keys import teacher_cache_key
    from g2m.config import student_config, teacher_config
    from g2m.data.registry import load_dataset
    from g2m.data.specs import get_spec
    from g2m.data.splits import make_node_split, protocol_graph
    from g2m.evaluation.metrics import node_scores
    from g2m.experiments.teachers import save_node_teacher
    from g2m.training.node_student import distill_node_student
    from g2m.training.node_teacher import train_node_teacher

    spec = get_spec(dataset)
    rows: list[dict[str, Any]] = []
    # the graph the split protocol is defined on (GLNN/CPF: the largest connected component), as g2m run
    graph = _stage(
        rows,
        "load graph",
        lambda: protocol_graph(load_dataset(dataset, data_root, **(loader_overrides or {})), spec.split),
        echo,
    )
    split = _stage(rows, "split", lambda: make_node_split(graph, spec.split, "transductive", seed), echo)
    t_cfg = teacher_config(spec, teacher, **(teacher_overrides or {}))
    out = _stage(
        rows,
        "teacher: train and infer every node",
        lambda: train_node_teacher(graph, split, t_cfg, seed, spec.metric, progress, device),
        echo,
    )
    cache = TeacherCache(cache_dir)
    key = teacher_cache_key(graph.name, split, t_cfg, seed)
    trained = out

    def write_cache() -> Path | None:
        return save_node_teacher(cache, key, trained, t_cfg, split, spec.metric)

    where = _stage(rows, "teacher: write cache", write_cache, echo)
    teacher_scores = out.scores
    del out  # the student reads the cache, as it would in a separate process

    logits = _stage(rows, "cache: read logits", lambda: cache.lookup(key).tensors["logits"], echo)
    s_cfg = student_config(spec, method, teacher=teacher, **(student_overrides or {}))
    student = _stage(
        rows,
        f"student {method}: distil",
        lambda: distill_node_student(graph, split, logits, s_cfg, seed, spec.metric, progress, device=device),
        echo,
    )

    def evaluate() -> dict[str, float]:
        with torch.no_grad():
            return node_scores(student.model(graph.x.to(device)).cpu(), graph, split, spec.metric)

    scores = _stage(rows, "evaluate", evaluate, echo)
    return {
        "dataset": dataset,
        "graph": {
            "nodes": graph.num_nodes,
            "edges": graph.num_edges,
            "features": graph.num_features,
            "classes": graph.num_classes,
        },
        "split": {"train": split.train.numel(), "val": split.val.numel(), "test": split.test.numel()},
        "teacher": {"config": asdict(t_cfg), "scores": teacher_scores, "cache": str(where)},
        "student": {"config": asdict(s_cfg), "scores": scores, "epochs_run": student.fit.epochs_run},
        "rows": rows,
        "total_seconds": sum(r["seconds"] for r in rows),
        "max_peak_rss_mib": max(r["peak_rss_mib"] for r in rows),
        "machine": machine_info(device),
    }
