"""Train link predictors: GNN teachers (BCE on positives and sampled negatives) and
MLP students (BCE plus LLP / matching terms against a cached teacher)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from g2m.config import LinkStudentConfig, LinkTeacherConfig
from g2m.data.graph import Graph
from g2m.data.link_splits import LinkSplit
from g2m.data.sampling import sample_contexts, to_csr
from g2m.device import cpu_generator, randint, resolve_device, to_device_async
from g2m.evaluation.link_metrics import hits_at_k, link_metrics
from g2m.losses.link import (
    link_bce,
    llp_dist_loss,
    llp_rank_loss,
    logit_matching_loss,
    representation_matching_loss,
)
from g2m.losses.link_objectives import term_weights
from g2m.ops.sparse import sparse_features
from g2m.students.mlp import MLP
from g2m.teachers.link import LinkScorer, score_in_batches
from g2m.teachers.models import build_teacher
from g2m.training.checkpoint import Checkpoint, GeneratorState
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


def evaluate_link(h: Tensor, scorer: LinkScorer, split: LinkSplit) -> dict[str, float]:
    split = split.to(h.device)
    val = hits_at_k(score_in_batches(scorer, h, split.val_pos), score_in_batches(scorer, h, split.val_neg), VAL_K)
    test = link_metrics(
        score_in_batches(scorer, h, split.test_pos).cpu(), score_in_batches(scorer, h, split.test_neg).cpu()
    )
    return {"val": val, **test}


def _validate(embed, scorer: LinkScorer, split: LinkSplit) -> float:
    h = embed()
    return hits_at_k(score_in_batches(scorer, h, split.val_pos), score_in_batches(scorer, h, split.val_neg), VAL_K)


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
    on the CPU, the encoder and scorer on ``device``."""
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

    def step():
        h = encoder(x, adj)
        neg = _negatives(observed, split.train_pos.size(1), gen)
        return link_bce(scorer.score_pairs(h, split.train_pos), scorer.score_pairs(h, neg)), {}

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
        grad_clip=config.grad_clip,
        tie_break=config.tie_break,
    )
    with torch.no_grad():
        h = encoder(x, adj)
    return LinkOutput(h.cpu(), scorer, encoder, evaluate_link(h, scorer, split), result)


def distill_link_student(
    graph: Graph,
    split: LinkSplit,
    teacher_embeddings: Tensor | None,
    teacher_scorer: LinkScorer | None,
    config: LinkStudentConfig,
    seed: int = 0,
    progress: bool = True,
    on_epoch: Callable[[int, float], None] | None = None,
    device: str | torch.device | None = None,
    checkpoint: Checkpoint | None = None,
) -> LinkOutput:
    """Train an MLP encoder and scorer on ``device`` (default ``auto``) with ``config.method``'s
    terms; the teacher's embeddings and scorer are moved there. Negatives, anchors and context
    walks are drawn on the CPU from a CPU generator and copied. The returned embeddings are on
    the CPU."""
    weights = term_weights(
        config.method,
        w_sup=config.w_sup,
        w_rank=config.w_rank,
        w_dist=config.w_dist,
        w_logit=config.w_logit,
        w_repr=config.w_repr,
    )
    needs_teacher = any(weights[t] for t in ("rank", "dist", "logit", "repr"))
    if needs_teacher and (teacher_embeddings is None or teacher_scorer is None):
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
    if teacher_scorer is not None:
        teacher_scorer = teacher_scorer.to(dev)

    def step():
        h = encoder(x)
        parts: dict[str, Tensor] = {}
        neg = _negatives(observed, split.train_pos.size(1), gen)
        pos_s, neg_s = scorer.score_pairs(h, split.train_pos), scorer.score_pairs(h, neg)
        if weights["sup"]:
            parts["sup"] = link_bce(pos_s, neg_s)
        if weights["logit"]:
            with torch.no_grad():
                t_pos = teacher_scorer.score_pairs(t_h, split.train_pos, config.teacher_score_dropout)
                t_neg = teacher_scorer.score_pairs(t_h, neg, config.teacher_score_dropout)
            parts["logit"] = logit_matching_loss(torch.cat([pos_s, neg_s]), torch.cat([t_pos, t_neg]))
        if weights["repr"]:
            parts["repr"] = representation_matching_loss(h[observed], t_h[observed])
        if weights["rank"] or weights["dist"]:
            anchors = observed_cpu
            if config.anchors_per_epoch and config.anchors_per_epoch < observed_cpu.numel():
                pick = torch.randperm(observed_cpu.numel(), generator=gen, device="cpu")
                anchors = observed_cpu[pick[: config.anchors_per_epoch]]
            ctx = sample_contexts(
                csr, anchors, config.walks, config.hops, config.random_ratio, gen, observed_cpu, config.walker
            )
            anchor, context = to_device_async(ctx.anchor, dev), to_device_async(ctx.context, dev)
            group = to_device_async(ctx.group, dev)
            s = scorer(h[anchor], h[context])
            with torch.no_grad():
                t = teacher_scorer(t_h[anchor], t_h[context], config.teacher_score_dropout)
            if config.relational_scores == "prob":
                s, t = s.sigmoid(), t.sigmoid()
            if weights["rank"]:
                parts["rank"] = llp_rank_loss(s, t, group, config.margin, ctx.num_groups, config.rank_average)
            if weights["dist"]:
                parts["dist"] = llp_dist_loss(s, t, group, ctx.num_groups, config.tau)
        loss = sum(weights[k] * v for k, v in parts.items())
        return loss, {k: float(v.detach()) for k, v in parts.items()}

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
        grad_clip=config.grad_clip,
        tie_break=config.tie_break,
        on_epoch=on_epoch,
        checkpoint=checkpoint,
        stateful={"gen": GeneratorState(gen)},
    )
    with torch.no_grad():
        h = encoder(x)
    return LinkOutput(h.cpu(), scorer, encoder, evaluate_link(h, scorer, split), result)
