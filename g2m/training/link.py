"""Train link predictors: GNN teachers (BCE on positives and sampled negatives) and
MLP students (BCE plus LLP / matching terms against a cached GNN teacher or a heuristic one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from g2m.config import LinkStudentConfig, LinkTeacherConfig
from g2m.data.graph import Graph
from g2m.data.link_splits import LinkSplit
from g2m.data.sampling import Contexts, sample_contexts, to_csr
from g2m.device import cpu_generator, randint, resolve_device, to_device_async
from g2m.evaluation.link_metrics import hits_at_k, link_metrics
from g2m.losses.link import (
    llp_dist_loss,
    llp_rank_denominator,
    llp_rank_loss,
    representation_matching_loss,
)
from g2m.losses.link_objectives import term_weights
from g2m.ops.sparse import sparse_features
from g2m.students.mlp import MLP
from g2m.teachers.heuristic import HeuristicScorer
from g2m.teachers.link import LinkScorer, score_in_batches
from g2m.teachers.models import build_teacher
from g2m.training.checkpoint import Checkpoint, GeneratorState
from g2m.training.chunked import PAIR_CHUNK, ChunkedBackward
from g2m.training.loop import FitResult, fit

VAL_K = 20


@dataclass
class LinkOutput:
    embeddings: Tensor  # [N, D]
    scorer: LinkScorer
    encoder: nn.Module
    scores: dict[str, float]  # val_hits@20 and test metrics
    fit: FitResult


def observed_nodes(split: LinkSplit) -> Tensor:
    keep = torch.ones(split.num_nodes, dtype=torch.bool, device=split.held_out.device)
    keep[split.held_out] = False
    return keep.nonzero().view(-1)


def _negatives(observed: Tensor, num: int, gen: torch.Generator) -> Tensor:
    """Uniform training negatives among observed nodes (collisions with positives are rare
    and harmless, as in PyG's and LLP's training loops)."""
    return observed[randint(observed.numel(), (2, num), gen, observed)]


@dataclass(frozen=True)
class LinkBatch:
    """One optimiser step's share of an epoch: training edges (columns of ``train_pos``) and
    nodes (LLP's anchors; the representation-matching term's nodes)."""

    edges: Tensor | None  # [B] columns of train_pos; None: every one
    nodes: Tensor  # [A] node ids


def link_batches(
    num_edges: int, batch_size: int | None, nodes: Tensor, gen: torch.Generator, anchors: int | None = None
) -> list[LinkBatch]:
    """One epoch of LLP's batches: the training edges shuffled and cut into batches of
    ``batch_size`` (None or 0: one batch of all), and ``nodes`` shuffled and cut into as many shares,
    ``int(N / (E / batch_size))`` nodes each (the last the rest), as the official code's
    ``node_batch_size``. ``anchors``: at most this many of the epoch's nodes are kept (in
    proportion per batch; None or 0: all). A single batch with every node draws nothing."""
    if batch_size is not None and batch_size < 0:
        raise ValueError(f"batch_size must be non-negative or None, got {batch_size}")
    batch_size = batch_size or None
    num = nodes.numel()
    keep = num if not anchors else min(anchors, num)
    if batch_size is None or batch_size >= num_edges:
        if keep == num:
            return [LinkBatch(None, nodes)]
        edges: list[Tensor | None] = [None]
        share = num
    else:
        edges = list(torch.randperm(num_edges, generator=gen, device="cpu").split(batch_size))
        share = max(1, int(num / (num_edges / batch_size)))
    if num == 0:  # edges only (a teacher's epoch)
        return [LinkBatch(e, nodes) for e in edges]
    order = nodes[torch.randperm(num, generator=gen, device="cpu").to(nodes.device)]
    return [LinkBatch(e, part[: -(-keep * part.numel() // num)]) for e, part in zip(edges, order.split(share))]


def _pairs_of(split: LinkSplit, batch: LinkBatch) -> Tensor:
    return split.train_pos if batch.edges is None else split.train_pos[:, batch.edges.to(split.train_pos.device)]


def evaluate_link(h: Tensor, scorer: LinkScorer, split: LinkSplit) -> dict[str, float]:
    split = split.to(h.device)
    return evaluate_pairs(lambda pairs: score_in_batches(scorer, h, pairs), split)


def evaluate_pairs(score: Callable[[Tensor], Tensor], split: LinkSplit) -> dict[str, float]:
    """Validation Hits@20 (``val``) and the test metrics of ``score`` (``[2, B]`` pairs on the
    split's device to ``[B]`` scores)."""
    val = hits_at_k(score(split.val_pos), score(split.val_neg), VAL_K)
    return {"val": val, **link_metrics(score(split.test_pos).cpu(), score(split.test_neg).cpu())}


def evaluate_heuristic(scorer: HeuristicScorer, split: LinkSplit) -> dict[str, float]:
    """A heuristic teacher's own scores: :func:`evaluate_pairs` a chunk of pairs at a time."""

    def score(pairs: Tensor) -> Tensor:
        chunks = [scorer.score_pairs(pairs[:, a : a + PAIR_CHUNK]) for a in range(0, pairs.size(1), PAIR_CHUNK)]
        return torch.cat(chunks) if chunks else torch.zeros(0, device=pairs.device)

    return evaluate_pairs(score, split.to(scorer.keys.device))


@dataclass(frozen=True)
class PairTeacher:
    """What a link student learns from: the teacher's score of node pairs (``score(u, v)``, ids
    ``[B]`` to ``[B]``) and, for representation matching, its node embeddings (a heuristic teacher
    has none)."""

    score: Callable[[Tensor, Tensor], Tensor]
    embeddings: Tensor | None = None


def _validate(embed, scorer: LinkScorer, split: LinkSplit) -> float:
    h = embed()
    return hits_at_k(score_in_batches(scorer, h, split.val_pos), score_in_batches(scorer, h, split.val_neg), VAL_K)


def _edge_terms(
    chunked: ChunkedBackward,
    scorer: LinkScorer,
    pos: Tensor,
    neg: Tensor,
    weights: dict[str, float],
    teacher: PairTeacher | None = None,
) -> dict[str, float]:
    """The supervised BCE (``sup``: :func:`~g2m.losses.link.link_bce`) and logit matching
    (``logit``: :func:`~g2m.losses.link.logit_matching_loss`, against ``teacher``'s embeddings,
    scorer and scorer dropout) over the ``pos`` and ``neg`` pairs, each backpropagated a chunk of
    pairs at a time (:data:`~g2m.training.chunked.PAIR_CHUNK`) with ``weights``; returns each
    term's (unweighted) value."""
    values = {term: 0.0 for term in ("sup", "logit") if weights.get(term)}
    if not values:  # e.g. LLP with w_sup = 0: the edges are not scored
        return values
    for pairs, label in ((pos, 1.0), (neg, 0.0)):
        for a in range(0, pairs.size(1), PAIR_CHUNK):
            part = pairs[:, a : a + PAIR_CHUNK]
            s = scorer(*chunked.pair_rows(part[0], part[1]))
            terms: dict[str, Tensor] = {}
            if "sup" in values:  # each mean over its own pairs, as link_bce
                terms["sup"] = F.binary_cross_entropy_with_logits(
                    s, torch.full_like(s, label), reduction="sum"
                ) / pairs.size(1)
            if "logit" in values:  # one mean over positives and negatives together
                assert teacher is not None
                with torch.no_grad():
                    t = teacher.score(part[0], part[1])
                terms["logit"] = F.mse_loss(s, t, reduction="sum") / (pos.size(1) + neg.size(1))
            chunked.backward(torch.stack([weights[k] * v for k, v in terms.items()]).sum())
            for k, v in terms.items():
                values[k] += float(v.detach())
    return values


def train_link_teacher(
    graph: Graph,
    split: LinkSplit,
    config: LinkTeacherConfig,
    seed: int = 0,
    progress: bool = True,
    device: str | torch.device | None = None,
) -> LinkOutput:
    """Train ``config``'s GNN encoder and scorer on the split's training edges, on ``device``
    (default ``auto``); negatives are drawn from a CPU generator. The returned embeddings are
    on the CPU, the encoder and scorer on ``device``.

    As LLP's ``train_teacher_gnn.py``: each epoch the training edges are shuffled and cut into
    batches of ``config.batch_size`` (one batch when they are fewer), and each batch gets one
    optimiser step on the BCE of its positives and as many uniform negatives, the encoder run
    over the whole message graph. The pairs are scored and backpropagated in chunks
    (:class:`~g2m.training.chunked.ChunkedBackward`)."""
    dev = resolve_device(device)
    torch.manual_seed(seed)
    gen = cpu_generator(seed)
    split = split.to(dev)
    msg = split.message_edge_index
    encoder = build_teacher(config.model, graph.num_features, config.hidden, **config.model_kwargs())
    scorer = LinkScorer(config.scorer, config.hidden, dropout=config.scorer_dropout)
    model = nn.ModuleDict({"encoder": encoder, "scorer": scorer}).to(dev)
    observed = observed_nodes(split)
    # full-graph operands: CSR features (when sparse enough) and the CSR message adjacency
    x, adj = sparse_features(graph.x.to(dev)), encoder.adjacency(msg, graph.num_nodes)
    num_edges = split.train_pos.size(1)

    def batches() -> list[LinkBatch]:
        return link_batches(num_edges, config.batch_size, observed[:0], gen)

    def step(batch: LinkBatch) -> tuple[Tensor, dict[str, float]]:
        pos = _pairs_of(split, batch)
        neg = _negatives(observed, pos.size(1), gen)
        chunked = ChunkedBackward(encoder(x, adj))
        _edge_terms(chunked, scorer, pos, neg, {"sup": 1.0})
        return chunked.finish(), {}

    result = fit(
        model,
        step,
        lambda: _validate(lambda: encoder(x, adj), scorer, split),
        lr=config.lr,
        weight_decay=config.weight_decay,
        epochs=config.epochs,
        patience=config.patience,
        desc=f"link teacher {config.model} seed {seed}",
        progress=progress,
        batches=batches,
        grad_clip=config.grad_clip,
        tie_break=config.tie_break,
        stateful={"gen": GeneratorState(gen)},
    )
    with torch.no_grad():
        h = encoder(x, adj)
    return LinkOutput(h.cpu(), scorer, encoder, evaluate_link(h, scorer, split), result)


def _relational_terms(
    chunked: ChunkedBackward,
    scorer: LinkScorer,
    ctx: Contexts,
    anchor: Tensor,
    context: Tensor,
    group: Tensor,
    teacher: PairTeacher,
    config: LinkStudentConfig,
    weights: dict[str, float],
) -> dict[str, float]:
    """LLP's rank and distribution terms over the contexts ``ctx`` (``anchor``, ``context`` and
    ``group`` on the training device), a chunk of anchors at a time: each chunk's ``reduction="sum"``
    share divided by the whole batch's denominator (:func:`~g2m.losses.link.llp_rank_denominator`,
    the anchors that have a context) and backpropagated at once; returns each term's value."""
    with torch.no_grad():  # the teacher's scores of every pair, [M] floats
        t = (
            torch.cat(
                [
                    teacher.score(anchor[a : a + PAIR_CHUNK], context[a : a + PAIR_CHUNK])
                    for a in range(0, anchor.numel(), PAIR_CHUNK)
                ]
            )
            if anchor.numel()
            else chunked.h.new_zeros(0)
        )
    if config.relational_scores == "prob":
        t = t.sigmoid()
    counts = torch.bincount(group, minlength=ctx.num_groups)
    values = {term: 0.0 for term in ("rank", "dist") if weights[term]}
    denominators = {
        "rank": llp_rank_denominator(t, group, config.margin, ctx.num_groups, config.rank_average),
        "dist": int((counts > 0).sum()),
    }
    starts = torch.cumsum(counts, 0) - counts
    per_chunk = max(1, PAIR_CHUNK // max(int(counts.max()) if counts.numel() else 1, 1))
    for g0 in range(0, ctx.num_groups, per_chunk):
        g1 = min(g0 + per_chunk, ctx.num_groups)
        a, b = int(starts[g0]), int(starts[g1 - 1] + counts[g1 - 1])
        if a == b:
            continue
        s = scorer(*chunked.pair_rows(anchor[a:b], context[a:b]))
        if config.relational_scores == "prob":
            s = s.sigmoid()
        local = group[a:b] - g0
        terms: dict[str, Tensor] = {}
        if "rank" in values and denominators["rank"]:
            terms["rank"] = (
                llp_rank_loss(s, t[a:b], local, config.margin, g1 - g0, config.rank_average, reduction="sum")
                / denominators["rank"]
            )
        if "dist" in values:
            terms["dist"] = llp_dist_loss(s, t[a:b], local, g1 - g0, config.tau, reduction="sum") / denominators["dist"]
        if terms:
            chunked.backward(torch.stack([weights[k] * v for k, v in terms.items()]).sum())
        for k, v in terms.items():
            values[k] += float(v.detach())
    return values


def _pair_teacher(
    t_h: Tensor | None, scorer: LinkScorer | HeuristicScorer | None, rate: float, dev: torch.device
) -> PairTeacher | None:
    if isinstance(scorer, HeuristicScorer):
        return PairTeacher(scorer.to(dev))
    if t_h is None or scorer is None:
        return None
    gnn = scorer.to(dev)
    return PairTeacher(lambda u, v: gnn(t_h[u], t_h[v], rate), t_h)


def distill_link_student(
    graph: Graph,
    split: LinkSplit,
    teacher_embeddings: Tensor | None,
    teacher_scorer: LinkScorer | HeuristicScorer | None,
    config: LinkStudentConfig,
    seed: int = 0,
    progress: bool = True,
    on_epoch: Callable[[int, float], None] | None = None,
    device: str | torch.device | None = None,
    checkpoint: Checkpoint | None = None,
) -> LinkOutput:
    """Train an MLP encoder and scorer on ``device`` (default ``auto``) with ``config.method``'s
    terms; the teacher's embeddings and scorer are moved there. A heuristic teacher
    (:class:`~g2m.teachers.heuristic.HeuristicScorer`, EHDM's) comes without embeddings and
    teaches every term but representation matching. Negatives, anchors and context
    walks are drawn on the CPU from a CPU generator and copied. The returned embeddings are on
    the CPU.

    As LLP's ``main.py``: each epoch the training edges are shuffled and cut into batches of
    ``config.batch_size`` (one batch when they are fewer) and the observed nodes into as many
    shares (:func:`link_batches`); each batch gets one optimiser step on its edges' supervised
    and logit terms and its nodes' relational (anchors) and representation terms. Every term is
    scored and backpropagated a chunk of pairs or anchors at a time
    (:class:`~g2m.training.chunked.ChunkedBackward`), so a step's memory is bounded by the chunk,
    whatever the batch; the loss and gradient are the batch's, summed in another order."""
    weights = term_weights(
        config.method,
        w_sup=config.w_sup,
        w_rank=config.w_rank,
        w_dist=config.w_dist,
        w_logit=config.w_logit,
        w_repr=config.w_repr,
    )
    needs_teacher = any(weights[t] for t in ("rank", "dist", "logit", "repr"))
    heuristic = isinstance(teacher_scorer, HeuristicScorer)
    if heuristic:
        if teacher_embeddings is not None:
            raise ValueError("a heuristic teacher scores pairs by the graph alone: give no teacher embeddings")
        if weights["repr"]:
            raise ValueError(
                f"method {config.method!r} matches the teacher's node embeddings, a heuristic teacher has none"
            )
        if config.teacher_score_dropout:
            raise ValueError("teacher_score_dropout applies to a GNN teacher's scorer; a heuristic has no dropout")
    elif needs_teacher and (teacher_embeddings is None or teacher_scorer is None):
        raise ValueError(f"method {config.method!r} needs the teacher's embeddings and scorer")
    dev = resolve_device(device)
    torch.manual_seed(seed)
    gen = cpu_generator(seed)
    observed_cpu = observed_nodes(split.to("cpu"))
    csr = to_csr(split.message_edge_index.cpu(), graph.num_nodes)  # contexts are sampled on the CPU
    split = split.to(dev)
    observed = observed_cpu.to(dev)
    # the student's embedding width equals its hidden width
    encoder = MLP(graph.num_features, config.hidden, **config.model_kwargs())
    scorer = LinkScorer(config.scorer, config.hidden, dropout=config.scorer_dropout)
    model = nn.ModuleDict({"encoder": encoder, "scorer": scorer}).to(dev)
    x = sparse_features(graph.x.to(dev))
    t_h = None if teacher_embeddings is None else teacher_embeddings.to(dev)
    teacher = _pair_teacher(t_h, teacher_scorer, config.teacher_score_dropout, dev)
    relational = bool(weights["rank"] or weights["dist"])
    num_edges = split.train_pos.size(1)

    def batches() -> list[LinkBatch]:
        # anchors_per_epoch caps LLP's anchors; without a relational term every node takes its share
        cap = (config.anchors_per_epoch or None) if relational else None
        return link_batches(num_edges, config.batch_size, observed_cpu, gen, cap)

    def step(batch: LinkBatch) -> tuple[Tensor, dict[str, float]]:
        pos = _pairs_of(split, batch)
        neg = _negatives(observed, pos.size(1), gen)
        chunked = ChunkedBackward(encoder(x))
        parts = _edge_terms(chunked, scorer, pos, neg, weights, teacher)
        if weights["repr"]:  # over the batch's nodes, as the official code's node_perm
            assert t_h is not None
            nodes = to_device_async(batch.nodes, dev)
            term = representation_matching_loss(chunked.rows(nodes), t_h[nodes])
            chunked.backward(weights["repr"] * term)
            parts["repr"] = float(term.detach())
        if relational:
            assert teacher is not None
            ctx = sample_contexts(
                csr, batch.nodes, config.walks, config.hops, config.random_ratio, gen, observed_cpu, config.walker
            )
            anchor, context = to_device_async(ctx.anchor, dev), to_device_async(ctx.context, dev)
            group = to_device_async(ctx.group, dev)
            parts.update(_relational_terms(chunked, scorer, ctx, anchor, context, group, teacher, config, weights))
        return chunked.finish(), parts

    result = fit(
        model,
        step,
        lambda: _validate(lambda: encoder(x), scorer, split),
        lr=config.lr,
        weight_decay=config.weight_decay,
        epochs=config.epochs,
        patience=config.patience,
        desc=f"link student {config.method} seed {seed}",
        progress=progress,
        batches=batches,
        grad_clip=config.grad_clip,
        tie_break=config.tie_break,
        on_epoch=on_epoch,
        checkpoint=checkpoint,
        stateful={"gen": GeneratorState(gen)},
    )
    with torch.no_grad():
        h = encoder(x)
    return LinkOutput(h.cpu(), scorer, encoder, evaluate_link(h, scorer, split), result)
