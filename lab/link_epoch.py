r"""Seconds per epoch and peak memory of link training: the GNN teacher, the MLP student and LLP.

Each (graph, model) pair trains for ``epochs`` epochs in a fresh Python process, so that the peak
resident set size belongs to it alone, at the graph's link presets (``[hparams.link_teacher]``,
``[hparams.link_student]`` of its TOML: LLP's published recipe where it has one). A synthetic
graph (``synthetic``: products-like CSBM, :func:`g2m.data.csbm.products_like_graph`)
takes the code's defaults with every node an anchor. The students distil a random teacher
(embeddings and scorer): the cost does not depend on their values. An epoch is what
:func:`g2m.training.loop.fit` times: its optimiser steps (LLP's batches of training edges) and
its validation.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from typing import Any

import torch

from lab._env import worker_env

LINK_EPOCH_MODELS = ("teacher", "mlp", "llp")
COLUMNS = ("graph", "nodes", "train_edges", "model", "steps_per_epoch", "seconds_per_epoch", "peak_rss_gib")


@dataclass(frozen=True)
class LinkEpochConfig:
    graphs: tuple[str, ...] = ("cora", "amazon-photo", "coauthor-physics", "synthetic")
    models: tuple[str, ...] = LINK_EPOCH_MODELS
    synthetic_nodes: int = 200_000
    synthetic_degree: float = 50.0  # directed edges per node: 200k nodes -> 10M directed, 5M undirected
    epochs: int = 2
    threads: int | None = 1
    data_root: str | None = None
    device: str = "cpu"
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.models) - set(LINK_EPOCH_MODELS)
        if unknown:
            raise ValueError(f"unknown model(s) {sorted(unknown)}; choose from {LINK_EPOCH_MODELS}")
        if self.epochs < 1 or self.synthetic_nodes < 100:
            raise ValueError("epochs must be positive and synthetic_nodes at least 100")


def measure(graph_name: str, model: str, cfg: LinkEpochConfig) -> dict[str, Any]:
    """One measurement in this process (run by :func:`run_link_epoch` in a fresh one)."""
    from g2m.config import LinkStudentConfig, LinkTeacherConfig, link_student_config, link_teacher_config
    from g2m.data.csbm import products_like_graph
    from g2m.data.link_splits import make_link_split
    from g2m.data.registry import load_dataset
    from g2m.data.specs import get_spec
    from g2m.device import resolve_device, set_threads
    from g2m.evaluation.machine import peak_rss_mib, reset_peak_rss, rss_mib
    from g2m.teachers.link import LinkScorer
    from g2m.training.link import distill_link_student, link_batches, train_link_teacher

    set_threads(cfg.threads)
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)
    if graph_name == "synthetic":
        graph = products_like_graph(cfg.synthetic_nodes, cfg.seed, avg_degree=cfg.synthetic_degree)
        spec = None
    else:
        graph, spec = load_dataset(graph_name, cfg.data_root), get_spec(graph_name)
    split = make_link_split(graph, "transductive", cfg.seed)
    n = cfg.epochs
    tcfg = link_teacher_config(spec, "sage", epochs=n, patience=n) if spec else LinkTeacherConfig(epochs=n, patience=n)
    base = rss_mib()
    peak_reset = reset_peak_rss()
    if model == "teacher":
        out = train_link_teacher(graph, split, tcfg, cfg.seed, progress=False, device=device)
        batch_size = tcfg.batch_size
    else:
        scfg = (
            link_student_config(spec, model, epochs=n, patience=n)
            if spec
            else LinkStudentConfig(method=model, anchors_per_epoch=0, epochs=n, patience=n)
        )
        gen = torch.Generator(device="cpu").manual_seed(cfg.seed)
        t_h = torch.randn(graph.num_nodes, tcfg.hidden, generator=gen, device="cpu")
        t_scorer = LinkScorer(tcfg.scorer, tcfg.hidden).eval()
        out = distill_link_student(graph, split, t_h, t_scorer, scfg, cfg.seed, progress=False, device=device)
        batch_size = scfg.batch_size
    steps = len(
        link_batches(split.train_pos.size(1), batch_size, split.held_out[:0], gen=torch.Generator(device="cpu"))
    )
    return {
        "graph": graph_name,
        "nodes": graph.num_nodes,
        "train_edges": split.train_pos.size(1),
        "model": model,
        "steps_per_epoch": steps,
        "seconds_per_epoch": out.fit.seconds_per_epoch,
        "peak_rss_gib": peak_rss_mib() / 1024,
        "rss_over_inputs_gib": (peak_rss_mib() - base) / 1024,
        "peak_reset": peak_reset,
        **({"peak_device_gib": torch.cuda.max_memory_allocated(device) / 2**30} if device.type == "cuda" else {}),
    }


def _run_worker(graph_name: str, model: str, cfg: LinkEpochConfig) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "lab.link_epoch", graph_name, model, json.dumps(asdict(cfg))],
        capture_output=True,
        text=True,
        env=worker_env(),
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-5:]
        killed = " (killed: out of memory?)" if proc.returncode < 0 else ""
        return {"graph": graph_name, "model": model, "error": f"exit {proc.returncode}{killed}: " + " | ".join(tail)}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_link_epoch(cfg: LinkEpochConfig, progress: bool = True) -> dict[str, Any]:
    """Every model on every graph, each in its own process; a failed measurement (out of
    memory, say) is recorded with its error. A line on stderr per finished measurement."""
    rows: list[dict[str, Any]] = []
    for graph_name in cfg.graphs:
        for model in cfg.models:
            row = _run_worker(graph_name, model, cfg)
            rows.append(row)
            if progress:
                done = (
                    f"{row['seconds_per_epoch']:.2f} s/epoch, peak {row['peak_rss_gib']:.2f} GiB"
                    if "error" not in row
                    else row["error"]
                )
                print(f"link-epoch: {graph_name} {model}: {done}", file=sys.stderr, flush=True)
    return {"config": asdict(cfg), "rows": rows}


def link_epoch_summary(result: dict[str, Any]) -> str:
    """Per graph, LLP's epoch over the MLP student's and the peaks, one line."""
    parts = []
    for graph_name in result["config"]["graphs"]:
        rows = {r["model"]: r for r in result["rows"] if r["graph"] == graph_name and "error" not in r}
        if "llp" in rows and "mlp" in rows:
            ratio = rows["llp"]["seconds_per_epoch"] / rows["mlp"]["seconds_per_epoch"]
            parts.append(f"{graph_name}: LLP {ratio:.1f}x the MLP's epoch, peak {rows['llp']['peak_rss_gib']:.2f} GiB")
    threads = result["config"]["threads"]
    return f"{result['config']['epochs']} epochs per measurement, {threads} thread(s); " + "; ".join(parts)


if __name__ == "__main__":  # the worker: python -m lab.link_epoch GRAPH MODEL CONFIG_JSON
    from g2m.device import keep_freed_memory

    reuse = keep_freed_memory()  # as the g2m command does
    _raw = json.loads(sys.argv[3])
    _raw = {k: tuple(v) if isinstance(v, list) else v for k, v in _raw.items()}
    config = LinkEpochConfig(**_raw)
    print(json.dumps({**measure(sys.argv[1], sys.argv[2], config), "malloc_reuse": reuse}))
