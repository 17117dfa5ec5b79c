r"""Inference latency of the MLP student against the GNN teacher, as a service sees it.

Nodes arrive one batch at a time (fresh random nodes for every call). For each
batch the timed work is:

* **student**: feature lookup ``x[batch]`` and the MLP forward;
* **teacher, sampled**: fetching each node's L-hop neighbourhood with the
  teacher's fan-out (:func:`g2m.data.sampling.sample_neighbourhood`, GraphSAGE
  sampling on CSR tensors), gathering the features of every node reached and the
  GNN forward on that subgraph;
* **teacher, full k-hop**: the same with every neighbour taken (fan-out -1);
* **full graph** (batch = every node): one GNN forward on the whole graph with a
  sparse CSR adjacency, against the MLP on every node.

Link prediction scores a batch of candidate pairs: the teacher fetches the
neighbourhoods of both endpoints, encodes and scores; the student encodes the
endpoints' features and scores. Neighbourhood sampling runs on the CPU (as PyG's
loaders do); features, models and the forward passes live on ``device``.
Warm-up calls are excluded; on CUDA every timed call is synchronised.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from g2m.benchmarks.machine import latency_summary, machine_info, pin_threads, resolve_device, time_calls
from g2m.data.graph import Graph
from g2m.data.sampling import CSR, sample_neighbourhood, to_csr
from g2m.students.mlp import MLP
from g2m.teachers.link import LinkScorer
from g2m.teachers.models import GNN

FULL = 0  # batch size meaning "every node of the graph"


@dataclass(frozen=True)
class LatencyConfig:
    batch_sizes: tuple[int, ...] = (1, 32, 1024, FULL)
    pair_batch_sizes: tuple[int, ...] = (1, 32, 1024)  # link scoring; empty: skip
    teacher: str = "sage"
    teacher_hidden: int = 256
    teacher_layers: int = 2
    fanouts: tuple[int, ...] = (15, 10)
    student_hidden: int = 256
    student_layers: int = 3
    repeats: int = 50
    full_repeats: int = 3
    warmup: int = 5
    budget_s: float = 30.0  # per path and batch size: stop repeating after this long (>= 5 calls)
    khop: bool = True  # also time the full k-hop neighbourhood
    threads: int | None = None
    device: str = "cpu"
    seed: int = 0

    def __post_init__(self) -> None:
        if len(self.fanouts) != self.teacher_layers:
            raise ValueError(f"{len(self.fanouts)} fan-outs for a {self.teacher_layers}-layer teacher")
        if any(f == 0 or f < -1 for f in self.fanouts):
            raise ValueError(f"fan-outs must be positive or -1 (all neighbours), got {self.fanouts}")
        if any(b < 0 for b in (*self.batch_sizes, *self.pair_batch_sizes)) or FULL in self.pair_batch_sizes:
            raise ValueError("batch sizes must be positive (0 = full graph, node batches only)")
        if self.repeats < 1 or self.full_repeats < 1 or self.warmup < 0 or self.budget_s <= 0:
            raise ValueError("repeats and budget_s must be positive and warmup non-negative")


@dataclass
class Servers:
    """The two deployed models and what each needs at serving time."""

    x: Tensor  # node features on the device
    csr: CSR  # adjacency on the CPU, for neighbourhood fetches
    adj_t: Tensor  # sparse CSR adjacency on the device, for full-graph teacher passes
    teacher: GNN
    student: nn.Module
    device: torch.device
    gen: torch.Generator = field(default_factory=torch.Generator)

    def teacher_nodes(self, nodes: Tensor, fanouts: tuple[int, ...]) -> Tensor:
        nb = sample_neighbourhood(self.csr, nodes, fanouts, self.gen)
        out = self.teacher(self.x[nb.nodes.to(self.device)], nb.edge_index.to(self.device))
        return out[: nb.num_seeds]

    def teacher_full(self) -> Tensor:
        return self.teacher(self.x, self.adj_t)

    def student_nodes(self, nodes: Tensor) -> Tensor:
        return self.student(self.x[nodes.to(self.device)])


def build_servers(graph: Graph, cfg: LatencyConfig, out_dim: int, student: nn.Module | None = None) -> Servers:
    """Freshly initialised teacher (weights do not change the cost) and the given or a
    fresh student, both in eval mode on the configured device."""
    device = resolve_device(cfg.device)
    csr = to_csr(graph.edge_index, graph.num_nodes)
    teacher, fresh_student = fresh_models(graph.num_features, out_dim, cfg)
    # message passing reads adj_t[i] = neighbours of i; the graph is undirected so adj_t = adj
    return Servers(graph.x.to(device), csr, csr.to_sparse().to(device), teacher.to(device),
                   (student or fresh_student).to(device).eval(), device, torch.Generator().manual_seed(cfg.seed))


def fresh_models(in_dim: int, out_dim: int, cfg: LatencyConfig) -> tuple[GNN, MLP]:
    torch.manual_seed(cfg.seed)
    teacher = GNN(cfg.teacher, in_dim, out_dim, cfg.teacher_hidden, cfg.teacher_layers, dropout=0.0)
    student = MLP(in_dim, out_dim, cfg.student_hidden, cfg.student_layers, dropout=0.0)
    return teacher.eval(), student.eval()


def _teacher_paths(cfg: LatencyConfig, call) -> dict[str, Any]:
    """``{label: fn(i)}`` for the sampled fan-out and, with ``khop``, the full k-hop
    neighbourhood; ``call(i, fanouts)`` serves call ``i`` with those fan-outs."""
    variants = [cfg.fanouts] + ([tuple(-1 for _ in cfg.fanouts)] if cfg.khop else [])
    return {("teacher full k-hop" if all(f == -1 for f in fan) else f"teacher sampled {tuple(fan)}"):
            (lambda i, fan=fan: call(i, fan)) for fan in variants}


def _node_rows(s: Servers, graph: Graph, cfg: LatencyConfig) -> list[dict[str, Any]]:
    n = graph.num_nodes
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    rows = []
    for batch in cfg.batch_sizes:
        if batch == FULL or batch >= n:
            paths = {"teacher full graph": lambda i: s.teacher_full(),
                     "student": lambda i: s.student(s.x)}
            size, repeats, warmup = n, cfg.full_repeats, min(cfg.warmup, 1)
        else:
            draws = [torch.randperm(n, generator=gen)[:batch] for _ in range(cfg.repeats + cfg.warmup)]
            paths = _teacher_paths(cfg, lambda i, fan: s.teacher_nodes(draws[i], fan))
            paths["student"] = lambda i: s.student_nodes(draws[i])
            size, repeats, warmup = batch, cfg.repeats, cfg.warmup
        rows += _time_paths("node", "full" if size == n else size, size, paths, repeats, warmup, cfg, s.device)
    return rows


def _link_rows(s: Servers, graph: Graph, cfg: LatencyConfig) -> list[dict[str, Any]]:
    scorer_t = LinkScorer("mlp", cfg.teacher_hidden).to(s.device).eval()
    scorer_s = LinkScorer("mlp", cfg.teacher_hidden).to(s.device).eval()  # embeddings share the width
    gen = torch.Generator().manual_seed(cfg.seed + 2)
    rows = []
    for batch in cfg.pair_batch_sizes:
        pairs = [torch.randint(graph.num_nodes, (2, batch), generator=gen) for _ in range(cfg.repeats + cfg.warmup)]

        def teacher(i: int, fanouts: tuple[int, ...]) -> Tensor:
            ends, inv = pairs[i].unique(return_inverse=True)
            h = s.teacher_nodes(ends, fanouts)
            inv = inv.to(s.device)
            return scorer_t(h[inv[0]], h[inv[1]])

        def student(i: int) -> Tensor:
            h = s.student_nodes(pairs[i].reshape(-1))
            return scorer_s(h[:batch], h[batch:])

        paths = _teacher_paths(cfg, teacher)
        paths["student"] = student
        rows += _time_paths("link", batch, batch, paths, cfg.repeats, cfg.warmup, cfg, s.device)
    return rows


def _time_paths(task: str, batch: int | str, size: int, paths: dict, repeats: int, warmup: int,
                cfg: LatencyConfig, device: torch.device) -> list[dict[str, Any]]:
    rows = []
    with torch.inference_mode():
        for path, fn in paths.items():
            secs = time_calls(fn, repeats, warmup, device, cfg.budget_s)
            rows.append({"task": task, "batch": batch, "path": path, **latency_summary(secs, size)})
    student = rows[-1]
    for row in rows:
        row["ratio_p50_vs_student"] = row["p50_ms"] / student["p50_ms"]
    return rows


def run_latency(graph: Graph, cfg: LatencyConfig, student: nn.Module | None = None,
                out_dim: int | None = None) -> dict[str, Any]:
    """Time every path at every batch size; returns machine info, config, graph shape and rows."""
    threads = pin_threads(cfg.threads)
    out_dim = out_dim or graph.num_classes or cfg.teacher_hidden
    servers = build_servers(graph, cfg, out_dim, student)
    rows = _node_rows(servers, graph, cfg)
    if cfg.pair_batch_sizes:
        # link encoders output embeddings of the hidden width; same graph tensors
        teacher, student_enc = fresh_models(graph.num_features, cfg.teacher_hidden, cfg)
        servers.teacher, servers.student = teacher.to(servers.device), student_enc.to(servers.device)
        rows += _link_rows(servers, graph, cfg)
    return {
        "machine": {**machine_info(servers.device), "torch_threads": threads},
        "config": asdict(cfg),
        "graph": {"name": graph.name, "nodes": graph.num_nodes, "edges": graph.num_edges,
                  "features": graph.num_features, "out_dim": out_dim},
        "rows": rows,
    }


def headline(result: dict[str, Any], batch: int = 1024) -> dict[str, Any] | None:
    """Teacher (sampled fan-out) over student p50 latency for node batches of ``batch``."""
    for row in result["rows"]:
        if row["task"] == "node" and row["batch"] == batch and row["path"].startswith("teacher sampled"):
            return {"batch": batch, "teacher_path": row["path"], "teacher_p50_ms": row["p50_ms"],
                    "student_p50_ms": row["p50_ms"] / row["ratio_p50_vs_student"],
                    "ratio_p50": row["ratio_p50_vs_student"]}
    return None
