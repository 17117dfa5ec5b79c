"""Train an MLP student on node features with one of the named objectives."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor, nn

from g2m import distributed as dist
from g2m.config import StudentConfig
from g2m.data.graph import Graph
from g2m.data.splits import NodeSplit
from g2m.device import cpu_generator, resolve_device, to_device_async
from g2m.evaluation.metrics import node_metric, node_scores
from g2m.losses.node import LFDTarget, label_ce, lfd_target, teacher_agreement
from g2m.losses.objectives import check_method
from g2m.losses.terms import (
    AdversarialTerm,
    DirichletTerm,
    HFDSample,
    KDTerm,
    LFDTerm,
    Objective,
    SimilarityTerm,
    Step,
    Term,
    TokenTerm,
    teacher_terms,
)
from g2m.losses.tokens import TeacherTokens
from g2m.methods import DISTILLED, LABELS, UNWEIGHTED
from g2m.ops.sparse import row_block, sparse_features
from g2m.students.injected import InjectedMLP
from g2m.students.mlp import MLP
from g2m.students.position import position_features, position_settings
from g2m.students.reliability import ReliableEdges, ReliableEdgeSampler
from g2m.teachers.knowledge import TeacherKnowledge, as_knowledge
from g2m.training.checkpoint import Checkpoint, GeneratorState
from g2m.training.loop import FitResult, fit


@dataclass
class NodeStudentOutput:
    model: MLP | InjectedMLP
    logits: Tensor
    scores: dict[str, float]
    fit: FitResult
    #: [N, P] position features appended to every node's input (None: the student has none)
    position: Tensor | None = None
    #: with ``config.guard``: which student was kept, one of :data:`g2m.methods.GUARD_CANDIDATES`; None: no guard
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
    (``StudentConfig.label_pass``), labelled seeds whose every term is taken on their labels;
    ``tokens``: a batch of VQGraph's token pass (``StudentConfig.token_pass``), whose one loss is
    the code assignment term; ``dirichlet``: TINED's Dirichlet energy step (no seeds: the whole
    observed graph)."""

    seeds: Tensor
    edges: Tensor | None = None
    labels: bool = False
    tokens: bool = False
    dirichlet: bool = False


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
    teacher: TeacherKnowledge | Tensor | None,
    config: StudentConfig,
    seed: int = 0,
    metric: str = "accuracy",
    progress: bool = True,
    on_epoch: Callable[[int, float], None] | None = None,
    *,
    device: str | torch.device | None = None,
    checkpoint: Checkpoint | None = None,
) -> NodeStudentOutput:
    """Train an MLP student on ``graph`` from the teacher's outputs, as ``config`` says.

    The student sees the observed nodes only; the graph enters through the losses (and,
    with ``config.position``, through position features of the observed graph). Its loss is a
    list of terms (:mod:`g2m.losses.terms`): the labels' cross-entropy, the objective's teacher
    terms (:func:`~g2m.losses.terms.teacher_terms`: KD, LFD, HFD), and NOSMOG's similarity and
    adversarial terms when their weights are set; KRD resamples LFD's edges each epoch
    (:class:`~g2m.students.reliability.ReliableEdges`).

    ``teacher`` (:class:`~g2m.teachers.knowledge.TeacherKnowledge`, or its ``[N, C]`` logits alone;
    None for ``mlp``): its ``hidden`` (``[N, H]``, the last hidden layer) is needed by
    ``config.similarity_weight > 0``; its ``entropy_shift`` (``[N]``, KRD's reliability
    signal, :func:`g2m.students.reliability.entropy_shift`) by ``config.reliability == "krd"``;
    its ``tokens`` (a vqgcn teacher's codebook and quantiser inputs) by ``config.token_weight > 0``
    (VQGraph: a training-only head from the student's hidden layer into the codebook's space, and
    with ``config.token_pass`` a pass of token-only steps before the others each epoch).

    ``config.guard``: validation decides how much of the graph the student trusts
    (:func:`guard_candidates`, :func:`select_on_validation`). The student is trained with the same seed on labels alone
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

    ``config.teacher_injection`` (TINED): the student is an
    :class:`~g2m.students.injected.InjectedMLP` built from the teacher's layers
    (``knowledge.layers``), its injected transforms at ``lr * config.injected_lr_ratio``; with
    ``config.dirichlet_weight`` its Dirichlet energy term (:class:`~g2m.losses.terms.DirichletTerm`)
    takes an Adam step of its own after each epoch's batches (full batch: it joins the step's loss).
    ``config.select_on == "loss"`` keeps the epoch with the lowest validation cross-entropy, and
    ``config.min_epochs`` holds early stopping back, as TINED's loop.

    Mini-batches (``config.batch_size``) never fetch a neighbour of the student: each epoch is a
    random permutation of the nodes cut into batches (the labelled nodes only for ``mlp``). KD is
    taken on the batch; LFD from the batch alone, through the graph's
    :class:`~g2m.losses.node.LFDTarget` built once (the mean KL over the edges pointing into the
    batch); HFD on a uniform sample of edges, ``config.hfd_edges_per_epoch`` per epoch (default: a
    quarter of the epoch's seed count, so a step's forward covers at most 1.5 times its batch) spread over the
    epoch's batches, with one student forward on the batch and
    the sampled edges' ends together: an unbiased estimate of the full HFD
    (:class:`~g2m.losses.terms.HFDTerm`). NOSMOG's additions run per batch:
    the similarity over the batch's nodes (its B x B similarities), PGD on the
    batch's features against its node-wise terms. ``config.drop_last`` and ``config.label_pass``
    give the official GLNN / NOSMOG loop (a label pass, then a teacher pass, each epoch).

    ``checkpoint`` (:class:`~g2m.training.checkpoint.Checkpoint`): save the training state as it
    goes and resume from a saved one (a guard's candidates each get their own)."""
    check_method(config.method)
    knowledge = as_knowledge(teacher)
    if config.objective != "mlp" and knowledge is None:
        raise ValueError(f"method {config.method!r} needs teacher logits")
    if config.guard:  # StudentConfig refuses a guard on a method without a teacher

        def candidate(name: str, cfg: StudentConfig) -> NodeStudentOutput:
            return distill_node_student(
                graph,
                split,
                knowledge if cfg.objective != "mlp" else None,
                cfg,
                seed,
                metric,
                progress,
                on_epoch if name == DISTILLED else None,  # a tuner's pruning follows the configured student
                device=device,
                checkpoint=None if checkpoint is None else checkpoint.child(name),
            )

        return select_on_validation(guard_candidates(config), candidate)
    if knowledge is not None and config.objective == "mlp":  # an mlp student reads no teacher logits
        knowledge = replace(knowledge, logits=None)  # type: ignore[arg-type]
    _check_teacher(graph, knowledge, config)
    return _StudentTraining(graph, split, knowledge, config, seed, resolve_device(device)).run(
        metric, progress, on_epoch, checkpoint
    )


def guard_candidates(config: StudentConfig) -> dict[str, StudentConfig]:
    """The students a guarded ``config`` chooses between, in the order a tie prefers them: on labels
    alone (:meth:`~g2m.config.StudentConfig.label_only`), as configured, and, when its LFD / HFD edges
    are weighted, unweighted."""
    candidates = {LABELS: config.label_only(), DISTILLED: replace(config, guard=False)}
    if config.edge_weighting != "none":
        candidates[UNWEIGHTED] = replace(config, guard=False, edge_weighting="none")
    return candidates


def select_on_validation(
    candidates: dict[str, StudentConfig], train: Callable[[str, StudentConfig], NodeStudentOutput]
) -> NodeStudentOutput:
    """Train every candidate (``train(name, config)``) and keep the one with the highest validation
    score, the first of equals; its ``guard`` names it, ``guard_val`` holds every candidate's score,
    and its training time is every candidate's (the guard's cost)."""
    trained = {name: train(name, cfg) for name, cfg in candidates.items()}
    kept = max(trained, key=lambda name: trained[name].scores["val"])
    spent = sum(out.fit.seconds for out in trained.values())
    return replace(
        trained[kept],
        guard=kept,
        fit=replace(trained[kept].fit, seconds=spent),
        guard_val={name: out.scores["val"] for name, out in trained.items()},
    )


def _check_teacher(graph: Graph, knowledge: TeacherKnowledge | None, config: StudentConfig) -> None:
    """One error for teacher tensors of the wrong shape, or options this run cannot take."""
    teacher_logits = None if knowledge is None else knowledge.logits
    hidden = None if knowledge is None else knowledge.hidden
    tokens = None if knowledge is None else knowledge.tokens
    if teacher_logits is not None and teacher_logits.shape != (graph.num_nodes, graph.num_classes):
        raise ValueError(
            f"teacher logits have shape {tuple(teacher_logits.shape)}, expected "
            f"({graph.num_nodes}, {graph.num_classes}) for {graph.name}"
        )
    if config.similarity_weight > 0 and (hidden is None or hidden.size(0) != graph.num_nodes):
        raise ValueError(
            "similarity_weight > 0 needs the teacher's hidden representation of every node (teacher_hidden, [N, H])"
        )
    if config.token_weight > 0 and (tokens is None or tokens.code_input.size(0) != graph.num_nodes):
        raise ValueError(
            "token_weight > 0 (VQGraph) needs a vqgcn teacher's codes of every node: train the teacher with "
            "-t vqgcn (or --recipe vqgraph)"
        )
    if config.teacher_injection:
        layers = None if knowledge is None else knowledge.layers
        if layers is None:
            raise ValueError(
                "teacher_injection (TINED) needs the teacher's layer weights and DE ratios: a sage teacher with "
                "sage_aggr gcn (--recipe tined), trained by this version of g2m (a cached teacher from before: "
                "--refresh)"
            )
        if layers.weights[-1].size(0) != graph.num_classes or layers.weights[0].size(1) != graph.num_features:
            raise ValueError(
                f"the teacher's layers map {layers.weights[0].size(1)} features to {layers.weights[-1].size(0)} "
                f"classes; {graph.name} has {graph.num_features} and {graph.num_classes}"
            )
    if dist.is_distributed() and config.batch_size is not None:
        unsplit = [
            name
            for name, on in (
                ("similarity_weight > 0", config.similarity_weight > 0),  # pairs across the ranks' parts
                ("adversarial_eps > 0", config.adversarial_eps > 0),
                ("label_pass", config.label_pass),
                ("token_pass", config.token_pass),
            )
            if on
        ]
        if unsplit:
            raise ValueError(f"{', '.join(unsplit)} is implemented for a single process; run without --nproc")
    if config.reliability == "krd":
        if config.objective not in ("lfd", "ffg2m"):
            raise ValueError(
                f"reliability 'krd' samples LFD's edges: use it with lfd or ffg2m, not {config.objective!r}"
            )
        if config.batch_size is not None:
            raise ValueError("reliability 'krd' is implemented for full-batch students only (batch_size None)")


class _StudentTraining:
    """One student's training: the observed graph's tensors on the device, the model, its loss
    terms (:mod:`g2m.losses.terms`) and the steps :func:`~g2m.training.loop.fit` takes, full batch
    (:meth:`full_step`) or per mini-batch (:meth:`batch_step`, :meth:`batches`)."""

    def __init__(
        self,
        graph: Graph,
        split: NodeSplit,
        knowledge: TeacherKnowledge | None,
        config: StudentConfig,
        seed: int,
        dev: torch.device,
    ) -> None:
        teacher_logits = None if knowledge is None else knowledge.logits
        entropy_shift = None if knowledge is None else knowledge.entropy_shift
        tokens = None if knowledge is None else knowledge.tokens
        self.graph, self.split, self.config, self.dev, self.seed = graph, split, config, dev, seed
        self.lfd_target: LFDTarget | None = None
        self.lfd_in_weight: Tensor | None = None
        reliable = None
        if config.reliability == "krd":
            if entropy_shift is None:
                raise ValueError(
                    "reliability 'krd' needs the teacher's entropy shift, which this teacher lacks (a cache "
                    "entry from before g2m recorded it, or a mini-batch teacher): retrain it with --refresh"
                )
            reliable = ReliableEdgeSampler(
                _rows(entropy_shift, split.observed, dev), config.krd_power, config.krd_momentum, config.krd_bins
            )
        torch.manual_seed(seed)
        self.view = view = split.observed_view(graph).to(dev)
        self.t_obs = t_obs = None if teacher_logits is None else _rows(teacher_logits, split.observed, dev)
        edges = view.edge_index
        # HFD is symmetric in (i, j): on this undirected graph one direction per edge
        # gives the same mean at half the cost.
        self.hfd_edges = edges[:, edges[0] < edges[1]]
        objective = config.objective
        self.lfd_weight = self.hfd_weight = None
        if config.edge_weighting == "agreement" and objective in ("lfd", "hfd", "ffg2m"):
            assert t_obs is not None  # edge weighting is refused for label-only students (StudentConfig)
            self.lfd_weight, self.hfd_weight = teacher_agreement(t_obs, edges), teacher_agreement(t_obs, self.hfd_edges)
        self.position = None
        self.x_view = view.x
        if config.position != "none":
            self.position = position_features(
                graph.num_nodes, graph.edge_index, split.observed, edges, position_settings(config), seed
            )
            self.x_view = torch.cat([view.x, _rows(self.position, split.observed, dev)], dim=1)
        self.model: MLP | InjectedMLP
        if config.teacher_injection:  # TINED: the teacher's steps as layers, its transforms injected
            assert knowledge is not None and knowledge.layers is not None  # checked with the config
            self.model = InjectedMLP(
                knowledge.layers, self.x_view.size(1), config.dropout, config.norm, config.propagation_init
            ).to(dev)
        else:
            self.model = MLP(self.x_view.size(1), graph.num_classes, **config.model_kwargs()).to(dev)
        hidden = self.model.hidden_size if isinstance(self.model, InjectedMLP) else config.hidden
        self.projector = None
        if config.similarity_weight > 0:
            # NOSMOG's mlp_feature_encoder: a training-only head from the student's hidden layer
            # to the space whose similarities are matched to the teacher's
            self.projector = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(config.dropout)).to(dev)
        self.token: TokenTerm | None = None
        if config.token_weight > 0:
            assert tokens is not None  # checked with the config
            observed = TeacherTokens(_rows(tokens.code_input, split.observed, dev), tokens.codebook.to(dev))
            # VQGraph's MLP.linear: the student's hidden layer into the codebook's space (training only)
            head = nn.Linear(hidden, tokens.codebook.size(1)).to(dev)
            self.token = TokenTerm(head, observed, config.token_tau, config.token_weight)
        self.needs_hidden = self.projector is not None or self.token is not None
        self.x_obs = sparse_features(self.x_view)  # bag-of-words features: the first layer becomes an SpMM
        self.gen = cpu_generator(seed)
        self.dirichlet: DirichletTerm | None = None
        if config.dirichlet_weight > 0:  # TINED's Dirichlet energy term (teacher_injection: checked)
            assert isinstance(self.model, InjectedMLP) and knowledge is not None and knowledge.layers is not None
            self.dirichlet = DirichletTerm(
                self.model.stepwise,
                self.x_view,
                edges,
                knowledge.layers.log_targets().to(dev),
                config.dirichlet_weight,
                config.dirichlet_edges,
                config.dirichlet_log,
                self.gen,
            )
        self.label_pass = config.label_pass and objective != "mlp"  # an MLP's epochs are the label pass alone
        self.token_pass = config.token_pass and self.token is not None
        self.forward: nn.Module = self.model
        self.lfd: LFDTerm | None = None
        if config.batch_size is not None:
            self.forward = dist.wrap(self.model)  # DistributedDataParallel under torchrun: gradients averaged
            self._prepare_batches()
        self.objective, self.on_labels = self._objectives(None if knowledge is None else knowledge.hidden)
        self.reliable = None
        if reliable is not None:
            assert self.lfd is not None  # KRD needs lfd or ffg2m (checked with the config)
            self.reliable = ReliableEdges(reliable, self.lfd, config.krd_start, self.gen)

    def _objectives(self, teacher_hidden: Tensor | None) -> tuple[Objective, Objective | None]:
        """The step's loss, and the label pass's (``config.label_pass``; else None)."""
        config, t_obs = self.config, self.t_obs
        terms: list[Term] = []
        if t_obs is not None:
            terms = teacher_terms(
                config.objective,
                t_obs,
                self.view.edge_index,
                config.tau,
                config.tempered_kd,
                config.chunk_size,
                self.lfd_weight,
                self.hfd_edges,
                self.hfd_weight,
                self.lfd_target,
            )
        self.lfd = next((term for term in terms if isinstance(term, LFDTerm)), None)
        # the label pass: every term on labels, the whole weighted lam; the teacher's pass after it:
        # every term on the teacher, weighted 1 - lam (applied by batch_step); else lam mixes the terms
        lam = 0.0 if self.label_pass else config.lam

        similarity = None  # one term (and one copy of the teacher's hidden rows) for both passes
        if self.projector is not None:
            assert teacher_hidden is not None  # checked with the config
            h_obs = _rows(teacher_hidden, self.split.observed, self.dev)
            similarity = SimilarityTerm(self.projector, h_obs, config.similarity_kernel, config.similarity_weight)

        def extras(lam: float, on_labels: bool) -> list[SimilarityTerm | TokenTerm | AdversarialTerm]:
            out: list[SimilarityTerm | TokenTerm | AdversarialTerm] = [] if similarity is None else [similarity]
            if self.token is not None and not self.token_pass and not on_labels:  # else: its own pass
                out.append(self.token)
            if config.adversarial_eps > 0:  # against the node-wise terms: label CE and untempered KD
                kd: list[Term] = [] if on_labels or t_obs is None else [KDTerm(t_obs)]
                node_wise = Objective(lam, kd)
                out.append(
                    AdversarialTerm(
                        node_wise, config.adversarial_eps, config.adversarial_steps, config.adversarial_weight, self.gen
                    )
                )
            return out

        main = Objective(lam, terms, extras(lam, False))
        return main, (Objective(1.0, [], extras(1.0, True)) if self.label_pass else None)

    def _prepare_batches(self) -> None:
        config, view, t_obs = self.config, self.view, self.t_obs
        self.is_train = torch.zeros(view.x.size(0), dtype=torch.bool, device="cpu")
        self.is_train[view.train.cpu()] = True
        # label-only training needs the labelled nodes alone; distillation sees every node
        objective = config.objective
        self.pool = view.train.cpu() if objective == "mlp" else torch.arange(view.x.size(0), device="cpu")
        if objective in ("lfd", "ffg2m"):  # LFD's neighbourhood sums, once: a batch needs its seeds alone
            assert t_obs is not None
            self.lfd_target = lfd_target(
                t_obs,
                view.edge_index,
                config.tau if config.tempered_kd else 1.0,
                config.chunk_size,
                edge_weight=self.lfd_weight,
            )
            if dist.is_distributed():  # each rank's share of a batch's LFD weight, counted on the CPU
                self.lfd_in_weight = self.lfd_target.in_weight.cpu()
        self.num_hfd = self.hfd_edges.size(1) if objective in ("hfd", "ffg2m") else 0
        # default: an edge per four seeds, so that the sampled ends add at most half a batch of rows
        self.hfd_per_epoch = (
            min(config.hfd_edges_per_epoch or math.ceil(self.pool.numel() / 4), self.num_hfd) if self.num_hfd else 0
        )

    def full_step(self) -> tuple[Tensor, dict[str, float]]:
        """One full-batch epoch's loss: every observed node, every edge."""
        model = self.model
        if self.reliable is not None:  # KRD: resample LFD's reliable edges
            self.reliable.new_epoch(lambda: predict_now(model, self.x_obs))
        hidden = None
        if not self.needs_hidden:
            logits = model(self.x_obs)
        else:
            logits, hidden = model(self.x_obs, return_hidden=True)
        x_dense = self.x_view if self.config.adversarial_eps > 0 else None
        step = Step(logits, self.view.y, self.view.train, hidden=hidden, x=x_dense, forward=model)
        loss, parts = self.objective(step)
        if self.dirichlet is not None:  # full batch: TINED's term joins the step's loss
            term, logged = self._dirichlet_step()
            loss, parts = loss + term, {**parts, **logged}
        return loss, parts

    def _dirichlet_step(self) -> tuple[Tensor, dict[str, float]]:
        """TINED's Dirichlet energy term, weighted, and its value for the log."""
        assert self.dirichlet is not None
        value = self.dirichlet()
        return self.dirichlet.weight * value, {self.dirichlet.name: float(value.detach())}

    def batches(self) -> Iterator[StudentBatch]:
        """One epoch's mini-batches (drawn on the CPU): the label pass's, then a random permutation of
        the nodes cut into batches, each with its share of a uniform sample of HFD's edges."""
        if self.token_pass:  # VQGraph's loop: a pass of code assignment steps over every node first
            for seeds in self._shuffled(self.pool):
                yield StudentBatch(seeds, tokens=True)
        if self.label_pass:  # the official GLNN / NOSMOG loop: the labelled nodes first
            for seeds in self._shuffled(self.view.train.cpu()):
                yield StudentBatch(seeds, labels=True)
        order = self._shuffled(self.pool)
        picks: list[Tensor | None] = [None] * len(order)
        if self.hfd_per_epoch:  # each epoch a uniform sample of the edges, without replacement, across its batches
            sample = torch.randperm(self.num_hfd, generator=self.gen, device="cpu")[: self.hfd_per_epoch]
            picks = list(sample.tensor_split(len(order)))
        for seeds, edge_ids in zip(order, picks):
            yield StudentBatch(seeds, edge_ids)
        if self.dirichlet is not None:  # TINED's loop: the Dirichlet energy step closes the epoch
            yield StudentBatch(torch.empty(0, dtype=torch.long, device="cpu"), dirichlet=True)

    def _shuffled(self, nodes: Tensor) -> list[Tensor]:
        if self.config.shuffle:
            order = nodes[torch.randperm(nodes.numel(), generator=self.gen, device="cpu")]
        else:  # the official TINED loop: the nodes in index order
            order = nodes.sort().values
        assert self.config.batch_size is not None
        return epoch_batches(order, self.config.batch_size, self.config.drop_last)

    def batch_step(self, batch: StudentBatch) -> tuple[Tensor, dict[str, float]]:
        """One mini-batch's loss: its seeds, and (HFD) its sampled edges. Data-parallel: every rank
        holds the same global batch and trains on its part of it."""
        if batch.dirichlet:
            return self._dirichlet_step()
        dev, forward, x_view = self.dev, self.forward, self.x_view
        mine = dist.part(batch.seeds)
        seeds = to_device_async(mine, dev)
        train_pos = to_device_async(self.is_train[mine].nonzero().view(-1), dev)
        edge_ids = None if batch.edges is None else dist.part(batch.edges)
        hidden = sample = None
        if edge_ids is None:
            if not self.needs_hidden:
                logits = forward(x_view[seeds])
            else:
                logits, hidden = forward(x_view[seeds], return_hidden=True)
        else:  # one student forward on the seeds and the sampled edges' ends together
            picked = to_device_async(edge_ids, dev)
            pairs = self.hfd_edges[:, picked]
            assert self.t_obs is not None  # HFD's edges are sampled for distilling students only
            nodes, inverse = torch.unique(torch.cat([seeds, pairs.reshape(-1)]), return_inverse=True)
            if not self.needs_hidden:
                both = forward(x_view[nodes])
            else:
                both, both_hidden = forward(x_view[nodes], return_hidden=True)
                hidden = both_hidden[inverse[: seeds.numel()]]
            logits = both[inverse[: seeds.numel()]]
            weight = None if self.hfd_weight is None else self.hfd_weight[picked]
            sample = HFDSample(both, self.t_obs[nodes], inverse[seeds.numel() :].view(2, -1), weight)
        x = x_view[seeds] if self.config.adversarial_eps > 0 else None
        scales = _rank_scales(batch, mine, edge_ids, self.is_train, self.lfd_in_weight)
        step = Step(logits, self.view.y[seeds], train_pos, seeds, hidden, x, forward, sample, scales)
        if batch.tokens:
            assert self.token is not None
            value = self.token(step)
            return self.token.weight * value, {self.token.name: float(value.detach())}
        if not self.label_pass:
            return self.objective(step)
        if batch.labels:
            assert self.on_labels is not None
            loss, parts = self.on_labels(step)
            return loss * self.config.lam, parts
        loss, parts = self.objective(step)
        return loss * (1.0 - self.config.lam), parts

    def validate(self, metric: str) -> float:
        view, model = self.view, self.model
        if self.config.select_on == "loss":  # TINED's loop: the lowest validation cross-entropy is the best
            return -float(label_ce(model(self.x_view[view.val]), view.y[view.val]))
        if metric == "accuracy" and dist.is_distributed():  # each rank counts its shard of the nodes
            val = dist.part(view.val)
            correct = int((model(self.x_view[val]).argmax(-1) == view.y[val]).sum()) if val.numel() else 0
            right, total = dist.sum_counts(correct, val.numel(), device=self.dev)
            return right / total
        return node_metric(model(self.x_view[view.val]), view.y[view.val], metric)

    def _param_groups(self, trained: nn.Module) -> list[dict[str, Any]] | None:
        """TINED's two learning rates: the injected transforms at ``lr * injected_lr_ratio``, the rest at
        ``lr`` (None: one group)."""
        if not isinstance(self.model, InjectedMLP):
            return None
        injected = self.model.injected_parameters()
        ids = {id(p) for p in injected}
        rest = [p for p in trained.parameters() if id(p) not in ids]
        return [{"params": rest}, {"params": injected, "lr": self.config.lr * self.config.injected_lr_ratio}]

    def run(
        self,
        metric: str,
        progress: bool,
        on_epoch: Callable[[int, float], None] | None,
        checkpoint: Checkpoint | None,
    ) -> NodeStudentOutput:
        config, model, graph, split, dev = self.config, self.model, self.graph, self.split, self.dev
        trained = self.forward
        token_head = None if self.token is None else self.token.head
        heads = {name: head for name, head in (("projector", self.projector), ("token_head", token_head)) if head}
        if heads:
            trained = nn.ModuleDict({"student": self.forward, **heads})
        stateful: dict[str, Any] = {"gen": GeneratorState(self.gen)}
        if self.reliable is not None:
            stateful["krd"] = self.reliable
        mini = config.batch_size is not None
        result = fit(
            trained,
            (lambda batch: self.batch_step(batch)) if mini else (lambda: self.full_step()),
            lambda: self.validate(metric),
            lr=config.lr,
            weight_decay=config.weight_decay,
            epochs=config.epochs,
            patience=config.patience,
            desc=f"student {config.method} seed {self.seed}",
            progress=progress,
            batches=self.batches if mini else None,
            tie_break=config.tie_break,
            on_epoch=on_epoch,
            checkpoint=checkpoint,
            stateful=stateful,
            param_groups=self._param_groups(trained),
            min_epochs=config.min_epochs,
        )
        position = self.position
        if split.test_ind.numel():
            x_all = graph.x.to(dev) if position is None else torch.cat([graph.x.to(dev), position.to(dev)], dim=1)
            logits = predict(model, sparse_features(x_all))
        else:  # every node observed: the observed view is the graph itself
            logits = predict(model, self.x_obs)
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


@torch.no_grad()
def predict_now(model: nn.Module, x: Tensor) -> Tensor:
    """``model(x)`` in eval mode in one forward, the model put back in training mode after."""
    model.eval()
    out = model(x)
    model.train()
    return out
