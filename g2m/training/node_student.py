"""Train an MLP student on node features with one of the named objectives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from g2m.config import StudentConfig
from g2m.data.graph import Graph
from g2m.data.sampling import Neighbourhood, sample_neighbourhood, to_csr
from g2m.data.splits import NodeSplit
from g2m.evaluation.metrics import node_metric
from g2m.losses.objectives import check_method, node_objective
from g2m.ops.sparse import sparse_features
from g2m.students.mlp import MLP
from g2m.teachers.node import node_scores
from g2m.training.loop import FitResult, fit


@dataclass
class NodeStudentOutput:
    model: MLP
    logits: Tensor
    scores: dict[str, float]
    fit: FitResult


def distill_node_student(
    graph: Graph,
    split: NodeSplit,
    teacher_logits: Tensor | None,
    config: StudentConfig,
    seed: int = 0,
    metric: str = "accuracy",
    progress: bool = True,
    on_epoch: Callable[[int, float], None] | None = None,
) -> NodeStudentOutput:
    """The student sees the observed nodes only; the graph enters through the losses."""
    check_method(config.method)
    if config.method != "mlp" and teacher_logits is None:
        raise ValueError(f"method {config.method!r} needs teacher logits")
    if teacher_logits is not None and teacher_logits.shape != (graph.num_nodes, graph.num_classes):
        raise ValueError(
            f"teacher logits have shape {tuple(teacher_logits.shape)}, expected "
            f"({graph.num_nodes}, {graph.num_classes}) for {graph.name}"
        )
    torch.manual_seed(seed)
    view = split.observed_view(graph)
    t_obs = teacher_logits[split.observed] if teacher_logits is not None else None
    edges = view.edge_index
    # HFD is symmetric in (i, j): on this undirected graph one direction per edge
    # gives the same mean at half the cost.
    hfd_edges = edges[:, edges[0] < edges[1]]
    model = MLP(graph.num_features, graph.num_classes, **config.model_kwargs())
    x_obs = sparse_features(view.x)  # bag-of-words features: the first layer becomes an SpMM

    def step(batch: Neighbourhood | None = None):
        if batch is None:
            return node_objective(
                config.method, model(x_obs), t_obs, view.y, view.train, edges,
                lam=config.lam, tau=config.tau, chunk_size=config.chunk_size, hfd_edge_index=hfd_edges,
                tempered_kd=config.tempered_kd,
            )
        # a batch: its nodes, their neighbours, and the edges pointing into the batch
        nodes = batch.nodes
        train_pos = is_train[nodes[: batch.num_seeds]].nonzero().view(-1)
        return node_objective(
            config.method, model(view.x[nodes]), None if t_obs is None else t_obs[nodes], view.y[nodes],
            train_pos, batch.edge_index, lam=config.lam, tau=config.tau, chunk_size=config.chunk_size,
            tempered_kd=config.tempered_kd,
        )

    batches = None
    if config.batch_size is not None:
        if config.batch_size < 1:
            raise ValueError("batch_size must be positive")
        csr = to_csr(edges, view.x.size(0))
        gen = torch.Generator().manual_seed(seed)
        is_train = torch.zeros(view.x.size(0), dtype=torch.bool)
        is_train[view.train] = True
        # label-only training needs the labelled nodes alone; distillation sees every node
        pool = view.train if config.method == "mlp" else torch.arange(view.x.size(0))

        def batches():
            for seeds in pool[torch.randperm(pool.numel(), generator=gen)].split(config.batch_size):
                yield sample_neighbourhood(csr, seeds, [-1] if config.method in ("lfd", "hfd", "ffg2m") else [], gen)

    def validate() -> float:
        return node_metric(model(view.x[view.val]), view.y[view.val], metric)

    result = fit(
        model, step, validate, lr=config.lr, weight_decay=config.weight_decay,
        epochs=config.epochs, patience=config.patience,
        desc=f"student {config.method} seed {seed}", progress=progress, batches=batches,
        tie_break=config.tie_break, on_epoch=on_epoch,
    )
    with torch.no_grad():  # every node observed: the observed view is the graph itself
        logits = model(sparse_features(graph.x) if split.test_ind.numel() else x_obs)
    return NodeStudentOutput(model, logits, node_scores(logits, graph, split, metric), result)
