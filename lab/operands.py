"""What the sparse operands and the two neighbour samplers cost, measured directly.

* :func:`epoch_times`: one full-batch training step (forward, loss, backward, Adam) of a
  teacher or MLP on a real graph, with ``edge_index`` and dense features against the CSR
  adjacency and CSR features (:mod:`g2m.ops.sparse`); the median of ``repeats`` steps.
* :func:`sampling_costs`: neighbour sampling alone, per sampler, for random seed batches:
  milliseconds and the nodes and edges of the sampled subgraph.
"""

from __future__ import annotations

import statistics
import time
from typing import Any, cast

import torch
from torch import Tensor

from g2m.data.graph import Graph
from g2m.data.neighbour_sampler import NeighbourSampler
from g2m.ops.sparse import sparse_features
from g2m.students.mlp import MLP
from g2m.teachers.models import GNN, build_teacher


def epoch_times(
    graph: Graph, model: str, hidden: int, layers: int, repeats: int = 3, seed: int = 0, device: Any = None
) -> dict[str, Any]:
    """Seconds per full-batch step on ``device`` (default ``auto``), ``edge_index`` path and sparse
    path (``model``: a teacher or mlp)."""
    from g2m.device import resolve_device

    device = resolve_device(device)
    graph = graph.to(device)
    out = {}
    for path in ("edge_index", "sparse"):
        torch.manual_seed(seed)
        net: torch.nn.Module
        if model == "mlp":
            net = MLP(graph.num_features, graph.num_classes, hidden, layers)
        else:
            net = build_teacher(model, graph.num_features, graph.num_classes, hidden=hidden, num_layers=layers)
        x, ops = graph.x, cast(Tensor | None, graph.edge_index)
        if path == "sparse":
            x = sparse_features(x)
            ops = None if model == "mlp" else cast(GNN, net).adjacency(graph.edge_index, graph.num_nodes)
        net = net.to(device)
        opt = torch.optim.Adam(net.parameters(), 0.01)
        secs = []
        for _ in range(repeats + 1):  # the first step warms up
            start = time.perf_counter()
            opt.zero_grad()
            logits = net(x) if model == "mlp" else net(x, ops)
            torch.nn.functional.cross_entropy(logits, graph.require_labels().clamp(min=0)).backward()
            opt.step()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            secs.append(time.perf_counter() - start)
        out[path] = statistics.median(secs[1:])
    return {
        "model": model,
        "hidden": hidden,
        "layers": layers,
        "device": str(device),
        "seconds_per_step": out,
        "speedup": out["edge_index"] / out["sparse"],
    }


def sampling_costs(
    graph: Graph, fanouts: tuple[int, ...], batch: int, samplers: tuple[str, ...], batches: int = 8, seed: int = 0
) -> list[dict[str, Any]]:
    """Per sampler: median ms to sample ``batch`` random seeds, mean nodes and edges reached."""
    rows = []
    for name in samplers:
        torch.manual_seed(seed)
        gen = torch.Generator(device="cpu").manual_seed(seed)
        sampler = NeighbourSampler(graph.edge_index, graph.num_nodes, fanouts, name, gen)
        secs, nodes, edges = [], [], []
        for _ in range(batches):
            seeds = torch.randperm(graph.num_nodes, generator=gen, device="cpu")[:batch]
            start = time.perf_counter()
            nb = sampler(seeds)
            secs.append(time.perf_counter() - start)
            nodes.append(nb.nodes.numel())
            edges.append(nb.edge_index.size(1))
        rows.append(
            {
                "sampler": name,
                "batch": batch,
                "fanouts": list(fanouts),
                "ms_p50": 1e3 * statistics.median(secs),
                "nodes_mean": statistics.fmean(nodes),
                "edges_mean": statistics.fmean(edges),
            }
        )
    return rows
