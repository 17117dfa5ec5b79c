"""Per-call cost of the :mod:`g2m.nn` loss modules in a user's own loop: one forward and backward
of each on a graph's edges, random student and teacher logits (the cost depends on shapes alone)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from g2m import nn as g2m_nn
from g2m.evaluation.machine import time_calls


def bench_loss_call(
    edge_index: Tensor, num_nodes: int, num_classes: int, repeats: int = 5, calls: int = 100, seed: int = 0
) -> list[dict[str, object]]:
    """Best-of-``repeats`` mean milliseconds per call (``calls`` calls each) of every module, with
    its ratio to :class:`g2m.nn.KDLoss`; the student logits are a leaf, so only the loss is timed."""
    device = edge_index.device
    gen = torch.Generator(device="cpu").manual_seed(seed)
    teacher = torch.randn(num_nodes, num_classes, generator=gen, device="cpu").to(device)
    student = torch.randn(num_nodes, num_classes, generator=gen, device="cpu").to(device).requires_grad_()
    modules: list[tuple[str, torch.nn.Module, tuple[Tensor, ...]]] = [
        ("KDLoss()", g2m_nn.KDLoss(), ()),
        ("LFDLoss()", g2m_nn.LFDLoss(), (edge_index,)),
        ("LFDLoss(cached=True)", g2m_nn.LFDLoss(cached=True), (edge_index,)),
        ("HFDLoss()", g2m_nn.HFDLoss(), (edge_index,)),
        ("HFDLoss(cached=True)", g2m_nn.HFDLoss(cached=True), (edge_index,)),
        ("FFG2MLoss()", g2m_nn.FFG2MLoss(), (edge_index,)),
        ("FFG2MLoss(cached=True)", g2m_nn.FFG2MLoss(cached=True), (edge_index,)),
    ]

    def calls_of(module: torch.nn.Module, extra: tuple[Tensor, ...]) -> Callable[[int], None]:
        def run(_: int) -> None:  # one timed repeat: ``calls`` calls
            for _ in range(calls):
                student.grad = None
                module(student, teacher, *extra).backward()

        return run

    rows: list[dict[str, object]] = []
    for name, module, extra in modules:
        seconds = time_calls(calls_of(module, extra), repeats, warmup=1, device=device)
        rows.append({"loss": name, "ms_per_call": min(seconds) / calls * 1e3})
    kd = float(rows[0]["ms_per_call"])  # type: ignore[arg-type]
    for row in rows:
        row["vs_kd"] = float(row["ms_per_call"]) / kd  # type: ignore[arg-type]
        row.update(nodes=num_nodes, classes=num_classes, edges=edge_index.size(1), threads=torch.get_num_threads())
    return rows
