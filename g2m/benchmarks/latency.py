r"""Inference latency of the MLP student against the GNN teacher, as a service sees it.

Nodes arrive one batch at a time (fresh random nodes for every call). For each
batch the timed work is:

* **student**: feature lookup ``x[batch]`` and the MLP forward;
* **teacher, sampled**: fetching each node's L-hop neighbourhood with the
  teacher's fan-out, gathering the features of every node reached and the GNN
  forward on that subgraph. Each neighbour sampler is timed on the same nodes:
  PyG's ``NeighborLoader`` ("pyg", when torch-sparse or pyg-lib is installed) and
  g2m's CSR sampler ("g2m"); the headline ratio uses the faster of the two;
* **teacher, full k-hop**: the same with every neighbour taken (fan-out -1);
* **GLNN's protocol** (Zhang et al., ICLR 2022, Table 4 and Figure 3): inductive
  inference on 10 random nodes, a SAGE teacher of 2 and 3 layers with every
  neighbour fetched, against an MLP of the same depth and width;
* **full graph** (batch = every node): one GNN forward on the whole graph with a
  sparse CSR adjacency, against the MLP on every node.

Link prediction scores a batch of candidate pairs: the teacher fetches the
neighbourhoods of both endpoints, encodes and scores; the student encodes the
endpoints' features and scores. Neighbourhood sampling runs on the CPU (as PyG's
loaders do); features, models and the forward passes live on ``device``.
Warm-up calls are excluded; on CUDA every timed call is synchronised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from g2m.data.graph import Graph
from g2m.data.neighbour_sampler import NeighbourSampler, has_pyg_sampler, resolve_sampler
from g2m.data.sampling import CSR, to_csr
from g2m.device import resolve_device, set_threads
from g2m.evaluation.machine import latency_summary, machine_info, time_calls
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
    # neighbour samplers timed side by side; None: every one installed (pyg when it can, g2m)
    samplers: tuple[str, ...] | None = None
    glnn_layers: tuple[int, ...] = (2, 3)  # GLNN's 10-node row: SAGE depths (empty: skip)
    glnn_nodes: int = 10
    # position-feature students (NOSMOG): also time a student of input width features +
    # position_dim serving unseen nodes, whose position rows are the mean of their
    # neighbours' (the lookup is timed); 0: skip
    position_dim: int = 0
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
        for name in self.samplers or ():
            resolve_sampler(name)  # unknown names and a missing PyG backend fail here
        if any(n < 1 for n in self.glnn_layers) or self.glnn_nodes < 1:
            raise ValueError("glnn_layers and glnn_nodes must be positive")
        if self.position_dim < 0:
            raise ValueError(f"position_dim must be non-negative, got {self.position_dim}")

    def sampler_names(self) -> tuple[str, ...]:
        """The samplers to time, each resolved to a concrete backend."""
        if self.samplers is None:
            return ("pyg", "g2m") if has_pyg_sampler() else ("g2m",)
        return tuple(dict.fromkeys(resolve_sampler(s) for s in self.samplers))


@dataclass
class Servers:
    """The two deployed models and what each needs at serving time."""

    x: Tensor  # node features on the device
    edge_index: Tensor  # on the CPU, for neighbourhood fetches
    adj_t: Tensor  # sparse CSR adjacency on the device, for full-graph teacher passes
    teacher: GNN
    student: nn.Module
    device: torch.device
    gen: torch.Generator = field(default_factory=torch.Generator)
    samplers: dict[tuple[str, tuple[int, ...]], NeighbourSampler] = field(default_factory=dict)
    out_dim: int = 0
    csr: CSR | None = None  # CPU adjacency, for position lookups
    log: Callable[[str], None] | None = None  # one line per timed path (progress), or silent

    def sampler(self, name: str, fanouts: tuple[int, ...]) -> NeighbourSampler:
        """Built once per (sampler, fan-out), outside the timed calls, as a server would."""
        key = (name, tuple(fanouts))
        if key not in self.samplers:
            self.samplers[key] = NeighbourSampler(self.edge_index, self.x.size(0), fanouts, name, self.gen)
        return self.samplers[key]

    def teacher_nodes(
        self, nodes: Tensor, fanouts: tuple[int, ...], sampler: str = "g2m", teacher: GNN | None = None
    ) -> Tensor:
        nb = self.sampler(sampler, fanouts)(nodes)
        out = (teacher or self.teacher)(self.x[nb.nodes.to(self.device)], nb.edge_index.to(self.device))
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
    return Servers(
        graph.x.to(device),
        graph.edge_index,
        csr.to_sparse().to(device),
        teacher.to(device),
        (student or fresh_student).to(device).eval(),
        device,
        torch.Generator(device="cpu").manual_seed(cfg.seed),
        out_dim=out_dim,
        csr=csr,
    )


def fresh_models(in_dim: int, out_dim: int, cfg: LatencyConfig) -> tuple[GNN, MLP]:
    torch.manual_seed(cfg.seed)
    teacher = GNN(cfg.teacher, in_dim, out_dim, cfg.teacher_hidden, cfg.teacher_layers, dropout=0.0)
    student = MLP(in_dim, out_dim, cfg.student_hidden, cfg.student_layers, dropout=0.0)
    return teacher.eval(), student.eval()


def _teacher_paths(cfg: LatencyConfig, call, samplers: tuple[str, ...]) -> dict[str, Any]:
    """``{label: fn(i)}`` for the sampled fan-out and, with ``khop``, the full k-hop
    neighbourhood, once per sampler; ``call(i, fanouts, sampler)`` serves call ``i``."""
    variants = [cfg.fanouts] + ([tuple(-1 for _ in cfg.fanouts)] if cfg.khop else [])
    return {
        f"{_fanout_label(fan)} [{name}]": (lambda i, fan=fan, name=name: call(i, fan, name))
        for fan in variants
        for name in samplers
    }


def _fanout_label(fanouts: tuple[int, ...]) -> str:
    return "teacher full k-hop" if all(f == -1 for f in fanouts) else f"teacher sampled {tuple(fanouts)}"


def _node_rows(s: Servers, graph: Graph, cfg: LatencyConfig) -> list[dict[str, Any]]:
    n, samplers = graph.num_nodes, cfg.sampler_names()
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 1)
    rows = []
    for batch in cfg.batch_sizes:
        if batch == FULL or batch >= n:
            paths = {"teacher full graph": lambda i: s.teacher_full(), "student": lambda i: s.student(s.x)}
            size, repeats, warmup = n, cfg.full_repeats, min(cfg.warmup, 1)
        else:
            draws = [torch.randperm(n, generator=gen, device="cpu")[:batch] for _ in range(cfg.repeats + cfg.warmup)]
            paths = _teacher_paths(cfg, lambda i, fan, name: s.teacher_nodes(draws[i], fan, name), samplers)
            if cfg.position_dim:
                paths.update(_position_paths(s, graph, cfg, draws))
            paths["student"] = lambda i: s.student_nodes(draws[i])
            size, repeats, warmup = batch, cfg.repeats, cfg.warmup
        rows += _time_paths("node", "full" if size == n else size, size, paths, repeats, warmup, cfg, s)
    return rows


def _position_paths(s: Servers, graph: Graph, cfg: LatencyConfig, draws: list[Tensor]) -> dict[str, Any]:
    """A position-feature student serving unseen nodes: the neighbour-mean lookup of their
    position rows (CPU CSR, as the teacher's fetches), then the MLP on [features, position]."""
    from g2m.students.position import lookup_position

    torch.manual_seed(cfg.seed)
    table = torch.randn(graph.num_nodes, cfg.position_dim, device="cpu")
    mlp = (
        MLP(graph.num_features + cfg.position_dim, s.out_dim, cfg.student_hidden, cfg.student_layers, dropout=0.0)
        .to(s.device)
        .eval()
    )

    def serve(i: int) -> Tensor:
        nodes = draws[i]
        assert s.csr is not None  # built with position features
        pos = lookup_position(s.csr, table, nodes).to(s.device)
        return mlp(torch.cat([s.x[nodes.to(s.device)], pos], dim=1))

    return {f"student + position lookup ({cfg.position_dim})": serve}


def _glnn_rows(s: Servers, graph: Graph, cfg: LatencyConfig) -> list[dict[str, Any]]:
    """GLNN's latency protocol: ``glnn_nodes`` random nodes, SAGE of each depth with every
    neighbour fetched, against an MLP of that depth (fresh weights; the cost is the same)."""
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 3)
    draws = [
        torch.randperm(graph.num_nodes, generator=gen, device="cpu")[: cfg.glnn_nodes]
        for _ in range(cfg.repeats + cfg.warmup)
    ]
    rows = []
    for layers in cfg.glnn_layers:
        torch.manual_seed(cfg.seed)
        sage = GNN("sage", graph.num_features, s.out_dim, cfg.teacher_hidden, layers, dropout=0.0).to(s.device).eval()
        mlp = MLP(graph.num_features, s.out_dim, cfg.teacher_hidden, layers, dropout=0.0).to(s.device).eval()
        full = tuple(-1 for _ in range(layers))

        def sage_path(name: str) -> Callable[[int], Tensor]:
            return lambda i: s.teacher_nodes(draws[i], full, name, sage)

        paths: dict[str, Callable[[int], Tensor]] = {
            f"SAGE {layers} layers, full k-hop [{name}]": sage_path(name) for name in cfg.sampler_names()
        }
        paths[f"MLP {layers} layers"] = lambda i: mlp(s.x[draws[i].to(s.device)])
        rows += _time_paths("glnn", cfg.glnn_nodes, cfg.glnn_nodes, paths, cfg.repeats, cfg.warmup, cfg, s)
    return rows


def _link_rows(s: Servers, graph: Graph, cfg: LatencyConfig) -> list[dict[str, Any]]:
    scorer_t = LinkScorer("mlp", cfg.teacher_hidden).to(s.device).eval()
    scorer_s = LinkScorer("mlp", cfg.teacher_hidden).to(s.device).eval()  # embeddings share the width
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed + 2)
    rows = []
    for batch in cfg.pair_batch_sizes:
        pairs = [
            torch.randint(graph.num_nodes, (2, batch), generator=gen, device="cpu")
            for _ in range(cfg.repeats + cfg.warmup)
        ]

        def teacher(i: int, fanouts: tuple[int, ...], sampler: str) -> Tensor:
            ends, inv = pairs[i].unique(return_inverse=True)
            h = s.teacher_nodes(ends, fanouts, sampler)
            inv = inv.to(s.device)
            return scorer_t(h[inv[0]], h[inv[1]])

        def student(i: int) -> Tensor:
            h = s.student_nodes(pairs[i].reshape(-1))
            return scorer_s(h[:batch], h[batch:])

        paths = _teacher_paths(cfg, teacher, cfg.sampler_names())
        paths["student"] = student
        rows += _time_paths("link", batch, batch, paths, cfg.repeats, cfg.warmup, cfg, s)
    return rows


def _time_paths(
    task: str,
    batch: int | str,
    size: int,
    paths: dict,
    repeats: int,
    warmup: int,
    cfg: LatencyConfig,
    s: Servers,
) -> list[dict[str, Any]]:
    rows = []
    with torch.inference_mode():
        for path, fn in paths.items():
            secs = time_calls(fn, repeats, warmup, s.device, cfg.budget_s)
            rows.append({"task": task, "batch": batch, "path": path, **latency_summary(secs, size)})
            if s.log is not None:
                s.log(f"{task} batch {batch}: {path}: p50 {rows[-1]['p50_ms']:.3g} ms over {len(secs)} calls")
    student = rows[-1]
    for row in rows:
        row["ratio_p50_vs_student"] = row["p50_ms"] / student["p50_ms"]
    return rows


def run_latency(
    graph: Graph,
    cfg: LatencyConfig,
    student: nn.Module | None = None,
    out_dim: int | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Time every path at every batch size; returns machine info, config, graph shape and rows.
    ``log`` gets one line per timed path as it finishes (progress on a long run)."""
    threads = set_threads(cfg.threads)
    out_dim = out_dim or graph.num_classes or cfg.teacher_hidden
    servers = build_servers(graph, cfg, out_dim, student)
    servers.log = log
    rows = _node_rows(servers, graph, cfg)
    if cfg.glnn_layers:
        rows += _glnn_rows(servers, graph, cfg)
    if cfg.pair_batch_sizes:
        # link encoders output embeddings of the hidden width; same graph tensors
        teacher, student_enc = fresh_models(graph.num_features, cfg.teacher_hidden, cfg)
        servers.teacher, servers.student = teacher.to(servers.device), student_enc.to(servers.device)
        rows += _link_rows(servers, graph, cfg)
    return {
        "machine": {**machine_info(servers.device), "torch_threads": threads},
        "config": asdict(cfg),
        "graph": {
            "name": graph.name,
            "nodes": graph.num_nodes,
            "edges": graph.num_edges,
            "features": graph.num_features,
            "out_dim": out_dim,
        },
        "rows": rows,
    }


def headline(result: dict[str, Any], batch: int = 1024) -> dict[str, Any] | None:
    """Teacher (sampled fan-out, the faster sampler) over student p50 latency for node
    batches of ``batch``; every sampler's p50 is listed beside it."""
    rows = [
        r
        for r in result["rows"]
        if r["task"] == "node" and r["batch"] == batch and r["path"].startswith("teacher sampled")
    ]
    if not rows:
        return None
    best = min(rows, key=lambda r: r["p50_ms"])
    return {
        "batch": batch,
        "teacher_path": best["path"],
        "teacher_p50_ms": best["p50_ms"],
        "student_p50_ms": best["p50_ms"] / best["ratio_p50_vs_student"],
        "ratio_p50": best["ratio_p50_vs_student"],
        "samplers_p50_ms": {r["path"]: r["p50_ms"] for r in rows},
    }
