r"""A node student's loss, as a list of terms: each a small object holding what its config and
the teacher give it, and computing its part of one training step.

One step's loss (:class:`Objective`) is

.. math:: \mathcal{L} = \lambda\,\mathcal{L}_{CE} + (1-\lambda)\!\!\sum_{t \in \{KD, LFD, HFD\}}\!\!\mathcal{L}_t
          + \sum_{e \in \{\text{similarity}, \text{token}, \text{adversarial}\}} w_e\,\mathcal{L}_e,

with :math:`\mathcal{L}_{CE}` alone for a student without a teacher. The teacher's terms are those
of the method's objective (:mod:`g2m.losses.objectives`); the others are NOSMOG's additions and
VQGraph's code assignments, each with its own weight. A term reads one :class:`Step`: the student's
logits of the step's nodes (every observed node in full batch, a mini-batch's seeds otherwise) and
what else it needs. The maths of
each term is in the pure loss it calls (:mod:`g2m.losses.node`, :mod:`g2m.losses.adversarial`).
:class:`g2m.students.reliability.ReliableEdges` (KRD) changes LFD's term between epochs: it
resamples its edges. :func:`teacher_terms` is the one place that says which terms an objective has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import torch
from torch import Tensor, nn

from g2m.losses.adversarial import pgd_perturbation
from g2m.losses.dirichlet import layerwise_dirichlet_loss
from g2m.losses.node import (
    LFDTarget,
    hfd_loss,
    kd_loss,
    kd_temperature,
    label_ce,
    lfd_loss,
    lfd_loss_on,
    similarity_loss,
)
from g2m.losses.tokens import TeacherTokens, token_kd_loss


@dataclass
class HFDSample:
    """A mini-batch's sampled HFD edges: ``edge_index`` (``[2, m]``) indexes ``logits`` (``[U, C]``,
    the student's logits of the edges' ends) and ``teacher`` (theirs); ``weight`` one per edge or None."""

    logits: Tensor
    teacher: Tensor
    edge_index: Tensor
    weight: Tensor | None = None


@dataclass
class Step:
    """What one training step gives its terms.

    Shapes: ``logits`` ``[B, C]``, the student's logits of the step's nodes; ``nodes`` ``[B]``, their
    observed-graph ids (None: every observed node, in order); ``labels`` ``[B]``, their classes;
    ``labelled`` positions in ``logits`` of the labelled nodes; ``hidden`` ``[B, H]``, the student's
    hidden layer (with a similarity term); ``x`` ``[B, F]``, the inputs (dense: PGD perturbs them);
    ``forward`` the student; ``hfd`` the sampled HFD edges of a mini-batch; ``scales`` a factor per
    term (data-parallel: a rank's share of the global batch's mean)."""

    logits: Tensor
    labels: Tensor
    labelled: Tensor
    nodes: Tensor | None = None
    hidden: Tensor | None = None
    x: Tensor | None = None
    forward: Callable[[Tensor], Tensor] | None = None
    hfd: HFDSample | None = None
    scales: dict[str, Tensor | float] | None = None

    def rows(self, table: Tensor) -> Tensor:
        """``table``'s rows of the step's nodes."""
        return table if self.nodes is None else table[self.nodes]


class Term(Protocol):
    """One part of the loss: ``term(step)`` is its value on ``step`` (None: nothing to take there)."""

    name: str

    def __call__(self, step: Step) -> Tensor | None: ...


@dataclass
class LabelTerm:
    r""":math:`\mathcal{L}_{CE}`, the cross-entropy on the step's labelled nodes (zero, not NaN, when
    a mini-batch holds none)."""

    name: str = "ce"

    def __call__(self, step: Step) -> Tensor:
        if not step.labelled.numel():
            return step.logits.sum() * 0.0
        return label_ce(step.logits[step.labelled], step.labels[step.labelled])


@dataclass
class KDTerm:
    r"""GLNN's :math:`\mathcal{L}_{KD}`: the mean KL from the teacher's distribution to the student's
    over the step's nodes (:func:`~g2m.losses.node.kd_loss`); ``tau`` divides both sides' logits."""

    teacher: Tensor
    tau: float = 1.0
    name: str = "kd"

    def __call__(self, step: Step) -> Tensor:
        return kd_loss(step.logits, step.rows(self.teacher), self.tau)


@dataclass
class LFDTerm:
    r"""FF-G2M's :math:`\mathcal{L}_{LFD}`: each node's student distribution against its neighbours'
    teacher distributions. Full batch: over ``edge_index`` (:func:`~g2m.losses.node.lfd_loss`),
    edges weighted by ``weight`` (the heterophily-safe agreement, or KRD's sample); a mini-batch:
    from its seeds alone, through ``target`` built once (:func:`~g2m.losses.node.lfd_loss_on`)."""

    teacher: Tensor
    edge_index: Tensor | None = None
    tau: float = 1.0
    chunk_size: int | None = None
    weight: Tensor | None = None
    target: LFDTarget | None = None
    name: str = "lfd"

    def __call__(self, step: Step) -> Tensor:
        if step.nodes is None:
            if self.edge_index is None:
                raise ValueError("full-batch LFD needs the graph's edges")
            return lfd_loss(
                step.logits, self.teacher, self.edge_index, self.tau, self.chunk_size, edge_weight=self.weight
            )
        if self.target is None:
            raise ValueError("LFD in mini-batches needs the graph's LFD target (lfd_target)")
        return lfd_loss_on(step.logits, self.target, step.nodes, self.tau, reduction="mean")


@dataclass
class HFDTerm:
    r"""FF-G2M's :math:`\mathcal{L}_{HFD}`: per edge, the softmax over classes of
    :math:`|z_i - z_j|/\tau` matched to the teacher's (:func:`~g2m.losses.node.hfd_loss`). Full
    batch: every edge of ``edge_index`` (one direction each); a mini-batch: its sampled edges
    (:class:`HFDSample`), an unbiased estimate of the full term, none when it sampled none."""

    teacher: Tensor | None = None
    edge_index: Tensor | None = None
    tau: float = 1.0
    chunk_size: int | None = None
    weight: Tensor | None = None
    name: str = "hfd"

    def __call__(self, step: Step) -> Tensor | None:
        if step.nodes is None:
            if self.teacher is None or self.edge_index is None:
                raise ValueError("full-batch HFD needs the teacher's logits and the graph's edges")
            return hfd_loss(
                step.logits, self.teacher, self.edge_index, self.tau, self.chunk_size, edge_weight=self.weight
            )
        sample = step.hfd
        if sample is None or not sample.edge_index.size(1):
            return None
        return hfd_loss(sample.logits, sample.teacher, sample.edge_index, self.tau, self.chunk_size, sample.weight)


@dataclass
class SimilarityTerm:
    r"""NOSMOG's representation similarity: the step's pairwise similarities of ``projector(hidden)``
    matched to the teacher's hidden layer's (:func:`~g2m.losses.node.similarity_loss`)."""

    projector: nn.Module
    teacher_hidden: Tensor
    kernel: str
    weight: float
    name: str = "similarity"

    def __call__(self, step: Step) -> Tensor:
        if step.hidden is None:
            raise ValueError("the similarity term needs the student's hidden layer (forward with return_hidden)")
        return similarity_loss(self.projector(step.hidden), step.rows(self.teacher_hidden), self.kernel)


@dataclass
class TokenTerm:
    r"""VQGraph's soft code assignment term: ``head(hidden)``'s distribution over the teacher's codes
    (negative Euclidean distances) matched to the teacher's (cosine similarities) at temperature
    ``tau`` (:func:`~g2m.losses.tokens.token_kd_loss`). ``tokens`` holds the codebook and the
    teacher's quantiser input of each observed node."""

    head: nn.Module
    tokens: TeacherTokens
    tau: float
    weight: float
    name: str = "token"

    def __call__(self, step: Step) -> Tensor:
        if step.hidden is None:
            raise ValueError("the token term needs the student's hidden layer (forward with return_hidden)")
        teacher = self.tokens.similarities(step.nodes)
        return token_kd_loss(self.head(step.hidden), self.tokens.codebook, teacher, self.tau)


@dataclass
class AdversarialTerm:
    r"""NOSMOG's adversarial augmentation: the node-wise loss ``node_wise`` (label CE and untempered
    KD) on the step's features moved by a PGD perturbation of radius ``eps`` that raises it
    (:func:`~g2m.losses.adversarial.pgd_perturbation`)."""

    node_wise: Objective
    eps: float
    steps: int
    weight: float
    gen: torch.Generator
    name: str = "adversarial"

    def __call__(self, step: Step) -> Tensor:
        if step.x is None or step.forward is None:
            raise ValueError("the adversarial term needs the step's dense inputs and the student")
        forward, x = step.forward, step.x

        def loss_of(inputs: Tensor) -> Tensor:
            return self.node_wise(_moved(step, forward(inputs)))[0]

        delta = pgd_perturbation(loss_of, x, self.eps, self.steps, self.gen)
        return loss_of(x + delta)


@dataclass
class DirichletTerm:
    r"""TINED's Dirichlet energy distillation over the observed graph: each student layer's log DE
    ratio (:func:`~g2m.losses.dirichlet.dirichlet_ratio`) against its teacher step's
    (:func:`~g2m.losses.dirichlet.dirichlet_distillation_loss`), the student run by ``stepwise``
    (``x -> [(input, output)]`` per layer) on every node, or, with ``edge_share < 1``, on the nodes
    a uniform draw of that share of the edges touches (the official ``DE_sampling_ratio``).

    Shapes: ``x`` ``[N, F]`` (dense), ``edge_index`` ``[2, E]``, ``log_targets`` ``[L]``."""

    stepwise: Callable[[Tensor], list[tuple[Tensor, Tensor]]]
    x: Tensor
    edge_index: Tensor
    log_targets: Tensor
    weight: float
    edge_share: float = 1.0
    log: bool = False
    gen: torch.Generator | None = None
    name: str = "dirichlet"

    def __post_init__(self) -> None:
        if not 0.0 < self.edge_share <= 1.0:
            raise ValueError(f"edge_share must be in (0, 1], got {self.edge_share}")

    def __call__(self) -> Tensor:
        x, edges = self.x, self.edge_index
        if self.edge_share < 1.0:
            count = max(1, int(self.edge_share * edges.size(1)))
            picked = torch.randperm(edges.size(1), generator=self.gen, device="cpu")[:count]
            edges = edges[:, picked.to(edges.device)]
            nodes, edges = torch.unique(edges, return_inverse=True)  # the nodes the drawn edges touch
            x = x[nodes]
        return layerwise_dirichlet_loss(self.stepwise(x), self.log_targets, edges, x.size(0), self.log)


def _moved(step: Step, logits: Tensor) -> Step:
    """``step`` with the student's logits of perturbed inputs (no scales: PGD's loss is the step's own)."""
    return Step(logits, step.labels, step.labelled, step.nodes)


@dataclass
class Objective:
    r"""The loss of one step: :math:`\lambda\,\mathcal{L}_{CE} + (1-\lambda)\sum` of the ``teacher``
    terms (just :math:`\mathcal{L}_{CE}` when there are none), plus each ``extra`` term times its
    weight. Returns the loss and every part as a float (for logging)."""

    lam: float
    teacher: list[Term] = field(default_factory=list)
    extras: list[SimilarityTerm | TokenTerm | AdversarialTerm] = field(default_factory=list)
    label: LabelTerm = field(default_factory=LabelTerm)

    def __call__(self, step: Step) -> tuple[Tensor, dict[str, float]]:
        ce = self.label(step)
        if self.teacher:
            parts = {term.name: value for term in self.teacher if (value := term(step)) is not None}
            if step.scales:
                ce = ce * step.scales.get("ce", 1.0)
                parts = {name: value * step.scales.get(name, 1.0) for name, value in parts.items()}
            loss, logged = combine(ce, parts, self.lam)
        else:
            if step.scales:
                ce = ce * step.scales.get("ce", 1.0)
            loss, logged = ce, {"ce": float(ce.detach())}
        for extra in self.extras:
            value = extra(step)
            loss = loss + extra.weight * value
            logged[extra.name] = float(value.detach())
        return loss, logged


def combine(ce: Tensor, parts: dict[str, Tensor], lam: float) -> tuple[Tensor, dict[str, float]]:
    r""":math:`\lambda\,\mathcal{L}_{CE} + (1-\lambda)\sum` of the distillation ``parts``, and each part."""
    total = lam * ce + (1.0 - lam) * sum(parts.values())
    return total, {"ce": float(ce.detach()), **{k: float(v.detach()) for k, v in parts.items()}}


def teacher_terms(
    objective: str,
    teacher: Tensor,
    edge_index: Tensor | None = None,
    tau: float = 1.0,
    tempered_kd: bool = False,
    chunk_size: int | None = None,
    edge_weight: Tensor | None = None,
    hfd_edge_index: Tensor | None = None,
    hfd_edge_weight: Tensor | None = None,
    lfd: LFDTarget | None = None,
) -> list[Term]:
    """The teacher's terms of a node ``objective`` (:data:`g2m.methods.NODE_OBJECTIVES`), in the order
    they are summed: KD for ``glnn``; LFD and / or HFD for ``lfd``, ``hfd``, ``ffg2m``; none for
    ``mlp``. KD and LFD compare the raw logits' softmaxes unless ``tempered_kd`` (HFD always divides by
    ``tau``), as the official FF-G2M code; ``lfd`` is LFD's target for mini-batches."""
    kd_tau = kd_temperature(tau, tempered_kd)
    terms: list[Term] = []
    if objective == "glnn":
        terms.append(KDTerm(teacher, kd_tau))
    if objective in ("lfd", "ffg2m"):
        terms.append(LFDTerm(teacher, edge_index, kd_tau, chunk_size, edge_weight, lfd))
    if objective in ("hfd", "ffg2m"):
        terms.append(HFDTerm(teacher, hfd_edge_index, tau, chunk_size, hfd_edge_weight))
    return terms
