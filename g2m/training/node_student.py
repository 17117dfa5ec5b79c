"""Train an MLP student on node features with one of the named objectives."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import cast

import torch
from torch import Tensor, nn

from g2m import distributed as dist
from g2m.config import StudentConfig
from g2m.data.graph import Graph
from g2m.data.splits import NodeSplit
from g2m.device import cpu_generator, resolve_device, to_device_async
from g2m.evaluation.metrics import node_metric
from g2m.losses.node import lfd_target, similarity_loss, teacher_agreement
from g2m.losses.objectives import check_method, minibatch_objective, node_objective
from g2m.ops.sparse import row_block, sparse_features
from g2m.students.mlp import MLP
from g2m.students.position import position_features
from g2m.students.reliability import ReliableEdgeSampler
from g2m.teachers.node import node_scores
from g2m.training.adversarial import pgd_perturbation
from g2m.training.checkpoint import Checkpoint, GeneratorState
from g2m.training.loop import FitResult, fit


@dataclass
class NodeStudentOutput:
    model: MLP
    logits: Tensor
    scores: dict[str, float]
    fit: FitResult
    #: [N, P] position features appended to every node's input (None: the student has none)
    position: Tensor | None = None
    #: with ``config.guard``: which student was kept, "labels", "distilled" (as configured) or
    #: "unweighted" (its LFD / HFD edges unweighted); None: no guard
    guard: str | None = None
    #: with ``config.guard``: every candidate's validation score
    guard_val: dict[str, float] | None = None

    def guard_record(self) -> dict[str, object]:
        """What a results row or a saved student records of the guard (:func:`guard_record`)."""
        return guard_record(self.guard, self.guard_val)


def guard_record(guard: str | None, guard_val: dict[str, float] | None) -> dict[str, object]:
    """What a results row or a saved student records of a guard: its choice and every candidate's
    validation score (empty without a guard)."""
    return {} if guard is None else {"guard": guard, "guard_val": guard_val}


@dataclass(frozen=True)
class StudentBatch:
    """One mini-batch step of a student: ``seeds`` (observed-graph node ids) and, for HFD,
    ``edges``: positions in the graph's HFD edge list (one direction per undirected edge) of
    the edges sampled for this step. ``labels``: a batch of the label pass
    (``StudentConfig.label_pass``), labelled seeds whose every term is taken on their labels."""

    seeds: Tensor
    edges: Tensor | None = None
    labels: bool = False


def epoch_batches(order: Tensor, batch_size: int, drop_last: bool) -> list[Tensor]:
    """``order`` cut into batches of ``batch_size``; with ``drop_last`` the incomplete last one is
    dropped, but never every node: fewer than ``batch_size`` make one batch (the official GLNN /
    NOSMOG loops' ``randperm(n)[: max(1, n // B) * B]``)."""
    if drop_last and order.numel() >= batch_size:
        order = order[: order.numel() // batch_size * batch_size]
    return list(order.split(batch_size))


def distill_node_student(
    graph: Graph,
    split: NodeSplit,
    teacher_logits: Tensor | None,
    config: StudentConfig,
    seed: int = 0,
    metric: str = "accuracy",
    progress: bool = True,
    on_epoch: Callable[[int, float], None] | None = None,
    teacher_hidden: Tensor | None = None,
    teacher_entropy_shift: Tensor | None = None,
    device: str | torch.device | None = None,
    checkpoint: Checkpoint | None = None,
) -> NodeStudentOutput:
    """The student sees the observed nodes only; the graph enters through the losses (and,
    with ``config.position``, through position features of the observed graph).

    ``teacher_hidden`` (``[N, H]``, the teacher's last hidden layer) is needed by
    ``config.similarity_weight > 0``; ``teacher_entropy_shift`` (``[N]``, KRD's reliability
    signal, :func:`g2m.students.reliability.entropy_shift`) by ``config.reliability == "krd"``.

    ``config.guard``: validation decides how much of the graph the student trusts. The
    student is trained with the same seed on labels alone
    (:meth:`~g2m.config.StudentConfig.label_only`), as configured, and, when its LFD / HFD
    edges are weighted, unweighted too; the one with the highest validation score is kept,
    and a tie goes to the one trusting less structure (labels, then weighted edges, then all
    edges): a teacher worse than the features alone (a GNN on a heterophilous graph) would
    drag the student below a plain MLP, and the teacher's disagreements carry signal where
    the graph is homophilous. Two or three times the training cost; the choice is in
    ``guard``, every candidate's validation score in ``guard_val``.

    ``device`` (default ``auto``, :func:`g2m.device.resolve_device`): where the student trains.
    The graph, split and teacher tensors may live anywhere; the rows the student needs are
    moved there. The model is initialised on the CPU from ``seed`` and then moved, and batches,
    edge masks and walks are drawn from CPU generators, so that a seed gives the same run on
    every device up to the device's arithmetic (and its dropout stream). The returned
    ``logits`` are on the CPU, the model on ``device``.

    Mini-batches (``config.batch_size``) never fetch a neighbour of the student: each epoch is a
    random permutation of the nodes cut into batches (the labelled nodes only for ``mlp``). KD is
    taken on the batch; LFD from the batch alone, through the graph's
    :class:`~g2m.losses.node.LFDTarget` built once (the mean KL over the edges pointing into the
    batch); HFD on a uniform sample of edges, ``config.hfd_edges_per_epoch`` per epoch (default: a
    quarter of the epoch's seed count, so a step's forward covers at most 1.5 times its batch) spread over the
    epoch's batches, with one student forward on the batch and
    the sampled edges' ends together: an unbiased estimate of the full HFD
    (:func:`~g2m.losses.objectives.minibatch_objective`). NOSMOG's additions run per batch:
    the similarity over the batch's nodes (its B x B similarities), PGD on the
    batch's features against its node-wise terms. ``config.drop_last`` and ``config.label_pass``
    give the official GLNN / NOSMOG loop (a label pass, then a teacher pass, each epoch).

    ``checkpoint`` (:class:`~g2m.training.checkpoint.Checkpoint`): save the training state as it
    goes and resume from a saved one (a guard's candidates each get their own)."""
    check_method(config.method)
    objective = config.objective
    if objective != "mlp" and teacher_logits is None:
        raise ValueError(f"method {config.method!r} needs teacher logits")
    if config.guard:  # StudentConfig refuses a guard on a method without a teacher
        # on_epoch (a tuner's pruning callback) follows the configured student only
        part = (lambda name: None) if checkpoint is None else checkpoint.child
        candidates = {
            "labels": distill_node_student(
                graph,
                split,
                None,
                config.label_only(),
                seed,
                metric,
                progress,
                device=device,
                checkpoint=part("labels"),
            ),
            "distilled": distill_node_student(
                graph,
                split,
                teacher_logits,
                replace(config, guard=False),
                seed,
                metric,
                progress,
                on_epoch,
                teacher_hidden,
                teacher_entropy_shift,
                device,
                part("distilled"),
            ),
        }
        if config.edge_weighting != "none":
            candidates["unweighted"] = distill_node_student(
                graph,
                split,
                teacher_logits,
                replace(config, guard=False, edge_weighting="none"),
                seed,
                metric,
                progress,
                None,
                teacher_hidden,
                teacher_entropy_shift,
                device,
                part("unweighted"),
            )
        kept = max(candidates, key=lambda name: candidates[name].scores["val"])  # the first of equals
        spent = sum(out.fit.seconds for out in candidates.values())  # the guard's cost is every candidate's
        return replace(
            candidates[kept],
            guard=kept,
            fit=replace(candidates[kept].fit, seconds=spent),
            guard_val={name: out.scores["val"] for name, out in candidates.items()},
        )
    if teacher_logits is not None and teacher_logits.shape != (graph.num_nodes, graph.num_classes):
        raise ValueError(
            f"teacher logits have shape {tuple(teacher_logits.shape)}, expected "
            f"({graph.num_nodes}, {graph.num_classes}) for {graph.name}"
        )
    if config.similarity_weight > 0 and (teacher_hidden is None or teacher_hidden.size(0) != graph.num_nodes):
        raise ValueError(
            "similarity_weight > 0 needs the teacher's hidden representation of every node (teacher_hidden, [N, H])"
        )
    if dist.is_distributed() and config.batch_size is not None:
        unsplit = [
            name
            for name, on in (
                ("similarity_weight > 0", config.similarity_weight > 0),  # pairs across the ranks' parts
                ("adversarial_eps > 0", config.adversarial_eps > 0),
                ("label_pass", config.label_pass),
            )
            if on
        ]
        if unsplit:
            raise ValueError(f"{', '.join(unsplit)} is implemented for a single process; run without --nproc")
    dev = resolve_device(device)
    krd = None
    if config.reliability == "krd":
        if objective not in ("lfd", "ffg2m"):
            raise ValueError(f"reliability 'krd' samples LFD's edges: use it with lfd or ffg2m, not {objective!r}")
        if config.batch_size is not None:
            raise ValueError("reliability 'krd' is implemented for full-batch students only (batch_size None)")
        if teacher_entropy_shift is None:
            raise ValueError(
                "reliability 'krd' needs the teacher's entropy shift, which this teacher lacks (a cache "
                "entry from before g2m recorded it, or a mini-batch teacher): retrain it with --refresh"
            )
        krd = ReliableEdgeSampler(
            _rows(teacher_entropy_shift, split.observed, dev), config.krd_power, config.krd_momentum, config.krd_bins
        )
    torch.manual_seed(seed)
    view = split.observed_view(graph).to(dev)
    t_obs = None if teacher_logits is None else _rows(teacher_logits, split.observed, dev)
    edges = view.edge_index
    # HFD is symmetric in (i, j): on this undirected graph one direction per edge
    # gives the same mean at half the cost.
    hfd_edges = edges[:, edges[0] < edges[1]]
    weighted = config.edge_weighting == "agreement" and objective in ("lfd", "hfd", "ffg2m")
    lfd_w = hfd_w = None
    if weighted:
        assert t_obs is not None  # edge weighting is refused for label-only students (StudentConfig)
        lfd_w, hfd_w = teacher_agreement(t_obs, edges), teacher_agreement(t_obs, hfd_edges)
    position = None
    x_view = view.x
    if config.position != "none":
        position = position_features(
            graph.num_nodes, graph.edge_index, split.observed, edges, config.position_settings(), seed
        )
        x_view = torch.cat([view.x, _rows(position, split.observed, dev)], dim=1)
    model = MLP(x_view.size(1), graph.num_classes, **config.model_kwargs()).to(dev)
    trained: nn.Module = model
    projector = None
    if config.similarity_weight > 0:
        # NOSMOG's mlp_feature_encoder: a training-only head from the student's hidden layer
        # to the space whose similarities are matched to the teacher's
        projector = nn.Sequential(nn.Linear(config.hidden, config.hidden), nn.ReLU(), nn.Dropout(config.dropout)).to(
            dev
        )
        trained = nn.ModuleDict({"student": model, "projector": projector})
        assert teacher_hidden is not None  # checked with the config, above
        h_obs = _rows(teacher_hidden, split.observed, dev)
    x_obs = sparse_features(x_view)  # bag-of-words features: the first layer becomes an SpMM
    x_dense = x_view if config.adversarial_eps > 0 and config.batch_size is None else None
    label_pass = config.label_pass and objective != "mlp"  # an MLP's epochs are the label pass alone
    gen = cpu_generator(seed)

    def soft_loss(logits: Tensor) -> Tensor:
        """The node-wise part of the objective (label CE and untempered KD, as NOSMOG), which
        adversarial inputs must keep low."""
        return node_objective(
            "mlp" if t_obs is None else "glnn", logits, t_obs, view.y, view.train, edges, lam=config.lam
        )[0]

    loop = _LoopState(lfd_weight=lfd_w, device=dev)  # what the full-batch step carries from epoch to epoch

    def step(batch: StudentBatch | None = None):
        if batch is None:
            loop.epoch += 1
            if krd is not None and loop.epoch >= config.krd_start:  # KRD: resample reliable edges
                model.eval()
                with torch.no_grad():
                    assert t_obs is not None  # KRD is refused without a teacher
                    krd.update(t_obs, model(x_obs))
                model.train()
                loop.lfd_weight = krd.sample(edges, gen)
            if projector is None:
                logits = model(x_obs)
            else:
                logits, hidden = model(x_obs, return_hidden=True)
            loss, parts = node_objective(
                objective,
                logits,
                t_obs,
                view.y,
                view.train,
                edges,
                lam=config.lam,
                tau=config.tau,
                chunk_size=config.chunk_size,
                hfd_edge_index=hfd_edges,
                tempered_kd=config.tempered_kd,
                edge_weight=loop.lfd_weight,
                hfd_edge_weight=hfd_w,
            )
            if projector is not None:
                sim = similarity_loss(projector(hidden), h_obs, config.similarity_kernel)
                loss = loss + config.similarity_weight * sim
                parts["similarity"] = float(sim.detach())
            if x_dense is not None:
                delta = pgd_perturbation(
                    lambda x: soft_loss(model(x)), x_dense, config.adversarial_eps, config.adversarial_steps, gen
                )
                adv = soft_loss(model(x_dense + delta))
                loss = loss + config.adversarial_weight * adv
                parts["adversarial"] = float(adv.detach())
            return loss, parts
        # a mini-batch: its seeds, and (HFD) a uniform sample of the graph's edges; drawn on the CPU.
        # Data-parallel: every rank holds the same global batch and trains on its part of it
        mine = dist.part(batch.seeds)
        seeds = to_device_async(mine, dev)
        train_pos = to_device_async(is_train[mine].nonzero().view(-1), dev)
        edge_ids = None if batch.edges is None else dist.part(batch.edges)
        scales = _rank_scales(batch, mine, edge_ids, is_train, lfd_in_weight)
        hfd_args: dict[str, Tensor | None] = {}
        seed_hidden = None
        if edge_ids is None:
            if projector is None:
                seed_logits = forward(x_view[seeds])
            else:
                seed_logits, seed_hidden = forward(x_view[seeds], return_hidden=True)
        else:  # one student forward on the seeds and the sampled edges' ends together
            picked = to_device_async(edge_ids, dev)
            pairs = hfd_edges[:, picked]
            assert t_obs is not None  # HFD's edges are sampled for distilling students only
            nodes, inverse = torch.unique(torch.cat([seeds, pairs.reshape(-1)]), return_inverse=True)
            if projector is None:
                logits = forward(x_view[nodes])
            else:
                logits, hidden = forward(x_view[nodes], return_hidden=True)
                seed_hidden = hidden[inverse[: seeds.numel()]]
            seed_logits = logits[inverse[: seeds.numel()]]
            hfd_args = {
                "hfd_logits": logits,
                "hfd_teacher": t_obs[nodes],
                "hfd_edge_index": inverse[seeds.numel() :].view(2, -1),
                "hfd_edge_weight": None if hfd_w is None else hfd_w[picked],
            }
        # the label pass (label_pass): every term on labels, the whole weighted lam; the teacher's
        # pass after it: every term on the teacher, weighted 1 - lam; else lam mixes inside each term
        on_labels = batch.labels
        lam = config.lam if not label_pass else (1.0 if on_labels else 0.0)
        weight = 1.0 if not label_pass else (config.lam if on_labels else 1.0 - config.lam)
        loss, parts = minibatch_objective(
            "mlp" if on_labels else objective,
            seed_logits,
            seeds,
            None if on_labels else t_obs,
            view.y,
            train_pos,
            lam=lam,
            tau=config.tau,
            tempered_kd=config.tempered_kd,
            lfd=lfd_tgt,
            chunk_size=config.chunk_size,
            scales=scales,
            **({} if on_labels else hfd_args),
        )
        if projector is not None:  # NOSMOG's similarity on the batch (h_obs: the teacher's hidden layer)
            assert seed_hidden is not None  # the forward returned it for the projector
            sim = similarity_loss(projector(seed_hidden), h_obs[seeds], config.similarity_kernel)
            loss = loss + config.similarity_weight * sim
            parts["similarity"] = float(sim.detach())
        if config.adversarial_eps > 0:  # NOSMOG's PGD on the batch's features, against its node-wise terms

            def node_wise(logits: Tensor) -> Tensor:
                base = "mlp" if on_labels or t_obs is None else "glnn"
                teacher = None if base == "mlp" else t_obs
                return minibatch_objective(base, logits, seeds, teacher, view.y, train_pos, lam=lam)[0]

            x_batch = x_view[seeds]
            delta = pgd_perturbation(
                lambda x: node_wise(forward(x)), x_batch, config.adversarial_eps, config.adversarial_steps, gen
            )
            adv = node_wise(forward(x_batch + delta))
            loss = loss + config.adversarial_weight * adv
            parts["adversarial"] = float(adv.detach())
        return (loss if weight == 1.0 else loss * weight), parts

    batches, lfd_tgt, lfd_in_weight = None, None, None
    forward: nn.Module = model
    if config.batch_size is not None:
        forward = dist.wrap(model)  # DistributedDataParallel under torchrun: gradients averaged over ranks
        trained = forward if projector is None else nn.ModuleDict({"student": forward, "projector": projector})
        is_train = torch.zeros(view.x.size(0), dtype=torch.bool, device="cpu")
        is_train[view.train.cpu()] = True
        # label-only training needs the labelled nodes alone; distillation sees every node
        pool = view.train.cpu() if objective == "mlp" else torch.arange(view.x.size(0), device="cpu")
        if objective in ("lfd", "ffg2m"):  # LFD's neighbourhood sums, once: a batch needs its seeds alone
            assert t_obs is not None
            lfd_tgt = lfd_target(
                t_obs, edges, config.tau if config.tempered_kd else 1.0, config.chunk_size, edge_weight=lfd_w
            )
            if dist.is_distributed():  # each rank's share of a batch's LFD weight, counted on the CPU
                lfd_in_weight = lfd_tgt.in_weight.cpu()
        num_hfd = hfd_edges.size(1) if objective in ("hfd", "ffg2m") else 0
        # default: an edge per four seeds, so that the sampled ends add at most half a batch of rows
        per_epoch = min(config.hfd_edges_per_epoch or math.ceil(pool.numel() / 4), num_hfd) if num_hfd else 0

        size = config.batch_size

        def shuffled(nodes: Tensor) -> list[Tensor]:
            order = nodes[torch.randperm(nodes.numel(), generator=gen, device="cpu")]
            return epoch_batches(order, size, config.drop_last)

        def batches():
            if label_pass:  # the official GLNN / NOSMOG loop: the labelled nodes first
                for seeds in shuffled(view.train.cpu()):
                    yield StudentBatch(seeds, labels=True)
            order = shuffled(pool)
            picks = [None] * len(order)
            if per_epoch:  # each epoch a uniform sample of the edges, without replacement, across its batches
                picks = list(torch.randperm(num_hfd, generator=gen, device="cpu")[:per_epoch].tensor_split(len(order)))
            for seeds, edge_ids in zip(order, picks):
                yield StudentBatch(seeds, edge_ids)

    def validate() -> float:
        if metric == "accuracy" and dist.is_distributed():  # each rank counts its shard of the nodes
            val = dist.part(view.val)
            correct = int((model(x_view[val]).argmax(-1) == view.y[val]).sum()) if val.numel() else 0
            right, total = dist.sum_counts(correct, val.numel(), device=dev)
            return right / total
        return node_metric(model(x_view[view.val]), view.y[view.val], metric)

    result = fit(
        trained,
        step,
        validate,
        lr=config.lr,
        weight_decay=config.weight_decay,
        epochs=config.epochs,
        patience=config.patience,
        desc=f"student {config.method} seed {seed}",
        progress=progress,
        batches=batches,
        tie_break=config.tie_break,
        on_epoch=on_epoch,
        checkpoint=checkpoint,
        stateful={"loop": loop, "gen": GeneratorState(gen), **({} if krd is None else {"krd": krd})},
    )
    if split.test_ind.numel():
        x_all = graph.x.to(dev) if position is None else torch.cat([graph.x.to(dev), position.to(dev)], dim=1)
        logits = predict(model, sparse_features(x_all))
    else:  # every node observed: the observed view is the graph itself
        logits = predict(model, x_obs)
    return NodeStudentOutput(model, logits, node_scores(logits, graph, split, metric), result, position)


def _rank_scales(
    batch: StudentBatch, mine: Tensor, edge_ids: Tensor | None, is_train: Tensor, lfd_in_weight: Tensor | None
) -> dict[str, Tensor | float] | None:
    """Data-parallel: the factors that turn each loss term's mean over this rank's part of the
    batch into its share of the global batch's mean, times the world size (DDP averages the
    gradients over the ranks); ``lfd_in_weight`` is LFD's per-node weight on the CPU. None in a
    single process."""
    if not dist.is_distributed():
        return None
    world = dist.world_size()
    scales: dict[str, Tensor | float] = {
        "ce": int(is_train[mine].sum()) / max(int(is_train[batch.seeds].sum()), 1) * world,
        "kd": mine.numel() / batch.seeds.numel() * world,
    }
    if lfd_in_weight is not None:
        scales["lfd"] = float(lfd_in_weight[mine].sum() / lfd_in_weight[batch.seeds].sum()) * world
    if edge_ids is not None and batch.edges is not None and batch.edges.numel():
        scales["hfd"] = edge_ids.numel() / batch.edges.numel() * world
    return scales


@dataclass
class _LoopState:
    """The full-batch step's state across epochs: the epoch count (KRD starts at ``krd_start``)
    and LFD's current edge weights (KRD resamples them); checkpointed with the model."""

    lfd_weight: Tensor | None
    device: torch.device
    epoch: int = 0

    def state_dict(self) -> dict[str, object]:
        return {"epoch": self.epoch, "lfd_weight": None if self.lfd_weight is None else self.lfd_weight.cpu()}

    def load_state_dict(self, state: dict[str, object]) -> None:
        self.epoch = int(state["epoch"])  # type: ignore[call-overload]
        weight = state["lfd_weight"]
        self.lfd_weight = None if weight is None else cast(Tensor, weight).to(self.device)


#: rows of one forward pass of :func:`predict` (256 hidden units: 64 MiB per activation)
PREDICT_ROWS = 1 << 16


@torch.no_grad()
def predict(model: nn.Module, x: Tensor, rows: int = PREDICT_ROWS) -> Tensor:
    """``model(x)`` in eval mode, ``rows`` rows at a time (dense or CSR ``x``), on the CPU: an
    MLP's outputs are row-wise, so the result is the same, and memory holds one chunk's
    activations instead of every node's (2.5M nodes x 256 units is 2.4 GiB per layer)."""
    model.eval()
    return torch.cat([model(row_block(x, a, min(a + rows, x.size(0)))).cpu() for a in range(0, x.size(0), rows)])


def _rows(table: Tensor, index: Tensor, device: torch.device) -> Tensor:
    """``table[index]`` on ``device``, wherever ``table`` and ``index`` live."""
    return table[index.to(table.device)].to(device)
