r"""Serving a trained student at the hardware limit: latency and accuracy per precision,
and achieved GFLOP/s against a plain ``torch.matmul`` of the same shapes.

For an MLP with layer widths :math:`d_0, \dots, d_L` a batch of :math:`B` nodes costs
:math:`2B\sum_l d_{l-1} d_l` floating-point operations. The *practical peak* is the
same chain of products, ``torch.matmul`` on random float32 operands with no bias,
activation or feature lookup, timed the same way; the ratio says how much of the CPU's
reachable GEMM speed the student's serving path gets. Each call serves a fresh batch of
random nodes (feature lookup included), as :mod:`g2m.benchmarks.latency` does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, cast

import torch
from torch import Tensor, nn

from g2m.data.graph import Graph
from g2m.data.splits import NodeSplit
from g2m.device import set_threads
from g2m.evaluation.machine import latency_summary, machine_info, time_calls
from g2m.evaluation.metrics import node_metric
from g2m.students.precision import PRECISIONS, with_precision


@dataclass(frozen=True)
class ServingConfig:
    batch_sizes: tuple[int, ...] = (1, 32, 1024)
    precisions: tuple[str, ...] = PRECISIONS
    peak_batch: int = 1024  # batch of the GFLOP/s comparison
    repeats: int = 50
    warmup: int = 5
    budget_s: float = 20.0
    threads: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.batch_sizes or any(b < 1 for b in self.batch_sizes) or self.peak_batch < 1:
            raise ValueError("batch sizes must be positive")
        for p in self.precisions:
            if p not in PRECISIONS:
                raise ValueError(f"unknown precision {p!r}; choose from {PRECISIONS}")
        if "fp32" not in self.precisions:
            raise ValueError("precisions must include fp32, the reference of the accuracy deltas")


def linear_shapes(model: nn.Module) -> list[tuple[int, int]]:
    """``(in, out)`` of every linear layer of ``model`` (``nn.Linear`` or PyG's ``Linear``), in order."""
    from torch_geometric.nn import Linear as PygLinear

    linear = (nn.Linear, PygLinear)
    shapes = [(m.weight.size(1), m.weight.size(0)) for m in model.modules() if isinstance(m, linear)]
    if not shapes:
        raise ValueError("the model has no linear layer")
    return shapes


def mlp_flops(shapes: list[tuple[int, int]], batch: int) -> int:
    """Multiply-adds times two of the linear layers for ``batch`` rows."""
    return sum(2 * batch * d_in * d_out for d_in, d_out in shapes)


def _matmul_chain(shapes: list[tuple[int, int]], batch: int, seed: int):
    gen = torch.Generator(device="cpu").manual_seed(seed)
    x = torch.randn(batch, shapes[0][0], generator=gen, device="cpu")
    weights = [torch.randn(d_in, d_out, generator=gen, device="cpu") for d_in, d_out in shapes]

    def call(_: int) -> Tensor:
        h = x
        for w in weights:
            h = torch.matmul(h, w)
        return h

    return call


def run_serving(graph: Graph, split: NodeSplit, model: nn.Module, metric: str, cfg: ServingConfig) -> dict[str, Any]:
    """Rows ``{precision, batch, p50_ms, ...}``, accuracy per precision, and the peak comparison."""
    threads = set_threads(cfg.threads)
    y = graph.require_labels()
    shapes = linear_shapes(model)
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed)
    draws = {
        b: [torch.randint(graph.num_nodes, (b,), generator=gen, device="cpu") for _ in range(cfg.repeats + cfg.warmup)]
        for b in sorted(set(cfg.batch_sizes) | {cfg.peak_batch})
    }
    cpu = torch.device("cpu")
    rows, scores = [], {}
    with torch.inference_mode():
        for precision in cfg.precisions:
            served = with_precision(model, precision)
            scores[precision] = node_metric(served(graph.x[split.test]), y[split.test], metric)
            for batch, nodes in draws.items():

                def call(i: int, nodes: list[Tensor] = nodes) -> Tensor:
                    return served(graph.x[nodes[i]])

                secs = time_calls(call, cfg.repeats, cfg.warmup, cpu, cfg.budget_s)
                summary = latency_summary(secs, batch)
                rows.append(
                    {
                        "precision": precision,
                        "batch": batch,
                        **summary,
                        "gflops": mlp_flops(shapes, batch) / (summary["p50_ms"] * 1e-3) / 1e9,
                        "test_score": scores[precision],
                        "score_change": scores[precision] - scores["fp32"] if "fp32" in scores else 0.0,
                    }
                )
        peak_secs = time_calls(
            _matmul_chain(shapes, cfg.peak_batch, cfg.seed), cfg.repeats, cfg.warmup, cpu, cfg.budget_s
        )
    peak = latency_summary(peak_secs, cfg.peak_batch)
    peak_gflops = mlp_flops(shapes, cfg.peak_batch) / (peak["p50_ms"] * 1e-3) / 1e9
    for row in rows:
        row["fraction_of_matmul_peak"] = (
            cast(float, row["gflops"]) / peak_gflops if row["batch"] == cfg.peak_batch else None
        )
    return {
        "machine": {**machine_info(cpu), "torch_threads": threads},
        "config": asdict(cfg),
        "graph": {"name": graph.name, "nodes": graph.num_nodes, "features": graph.num_features},
        "student": {
            "linear_shapes": shapes,
            "parameters": sum(p.numel() for p in model.parameters()),
            "flops_per_node": mlp_flops(shapes, 1),
        },
        "metric": metric,
        "matmul_peak": {"batch": cfg.peak_batch, "p50_ms": peak["p50_ms"], "gflops": peak_gflops},
        "rows": rows,
    }
