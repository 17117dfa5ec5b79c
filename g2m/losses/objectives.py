r"""Named node-distillation objectives (the ablations of FF-G2M):

=========  =====================================================================
``mlp``    :math:`\mathcal{L}_{CE}` (no teacher)
``glnn``   :math:`\lambda \mathcal{L}_{CE} + (1-\lambda)\mathcal{L}_{KD}`
``lfd``    :math:`\lambda \mathcal{L}_{CE} + (1-\lambda)\mathcal{L}_{LFD}`
``hfd``    :math:`\lambda \mathcal{L}_{CE} + (1-\lambda)\mathcal{L}_{HFD}`
``ffg2m``  :math:`\lambda \mathcal{L}_{CE} + (1-\lambda)(\mathcal{L}_{LFD} + \mathcal{L}_{HFD})`
=========  =====================================================================

As in the official FF-G2M code (``train_mini_batch`` in LirongWu/FF-G2M), KD and
LFD compare softmaxes of the raw logits and only HFD divides by
:math:`\tau`; ``tempered_kd=True`` divides KD and LFD by :math:`\tau` too
(g2m 0.1's behaviour, kept as a named option).

:math:`\mathcal{L}_{CE}` is taken on the labelled training nodes, the others on
every node (or edge) the student may see.

Recipe methods (``g2m.methods.NODE_RECIPES``) are one of these objectives plus student
options: ``nosmog`` is ``glnn`` with position features, representation-similarity
distillation and adversarial feature augmentation; ``ffg2m_safe`` is ``ffg2m`` with edges
weighted by the teacher's agreement :math:`w_{ij} = \langle p^T_i, p^T_j \rangle`:

.. math:: \mathcal{L}_{LFD}^{w} = \frac{\sum_{(j,i) \in \tilde E} w_{ji}\,
          \mathrm{KL}(p^T_j \| p^S_i)}{\sum_{(j,i) \in \tilde E} w_{ji}}\ (w_{ii} = 1),
          \qquad
          \mathcal{L}_{HFD}^{w} = \frac{1}{|E|} \sum_{(i,j) \in E} w_{ij}\,
          \mathrm{KL}(q^T_{ij} \| q^S_{ij}).

Where the teacher separates an edge's ends, :math:`w \to 0`: LFD falls back to KD on the
node itself (GLNN) and HFD drops the edge; where it joins them, :math:`w \to 1` and both are
FF-G2M's own terms. ``ffg2m_safe`` also carries the validation guard
(``StudentConfig.guard``, applied by the trainer, not here): validation chooses between the
weighted FF-G2M student, plain FF-G2M and the same MLP trained on labels alone.
"""

from __future__ import annotations

from torch import Tensor

from g2m.losses.node import LFDTarget
from g2m.losses.terms import HFDSample, Objective, Step, teacher_terms
from g2m.methods import NODE_OBJECTIVES, parse_node_method


def check_method(method: str) -> str:
    """``method`` if it names an objective or a recipe (g2m.methods.NODE_METHODS), optionally
    followed by ``+component`` options (g2m.methods.NODE_COMPONENTS)."""
    parse_node_method(method)
    return method


def node_objective(
    method: str,
    student_logits: Tensor,
    teacher_logits: Tensor | None,
    y: Tensor,
    train_idx: Tensor,
    edge_index: Tensor,
    lam: float = 0.0,
    tau: float = 1.0,
    chunk_size: int | None = None,
    hfd_edge_index: Tensor | None = None,
    tempered_kd: bool = False,
    edge_weight: Tensor | None = None,
    hfd_edge_weight: Tensor | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """Return the total loss and its parts (as floats, for logging).

    ``hfd_edge_index`` (default ``edge_index``) lets a caller pass one direction
    per undirected edge to HFD, which is symmetric, at half the cost.
    ``edge_weight`` / ``hfd_edge_weight`` (one per edge of ``edge_index`` / of HFD's edges;
    ``hfd_edge_weight`` defaults to ``edge_weight`` when HFD uses ``edge_index``) weight
    LFD's and HFD's edges: the heterophily-safe ``ffg2m_safe`` weights them by
    :func:`~g2m.losses.node.teacher_agreement`, so that LFD tends to KD and HFD to zero on
    edges whose ends the teacher puts in different classes."""
    _check_objective(method, teacher_logits, lam)
    terms = (
        []
        if teacher_logits is None
        else teacher_terms(
            method,
            teacher_logits,
            edge_index,
            tau,
            tempered_kd,
            chunk_size,
            edge_weight,
            edge_index if hfd_edge_index is None else hfd_edge_index,
            edge_weight if hfd_edge_index is None else hfd_edge_weight,
        )
    )
    return Objective(lam, terms)(Step(student_logits, y, train_idx))


def _check_objective(method: str, teacher_logits: Tensor | None, lam: float) -> None:
    if method not in NODE_OBJECTIVES:
        raise ValueError(f"unknown node objective {method!r}; choose one of {NODE_OBJECTIVES}")
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lambda must be in [0, 1], got {lam}")
    if method != "mlp" and teacher_logits is None:
        raise ValueError(f"method {method!r} needs teacher logits")


def minibatch_objective(
    method: str,
    seed_logits: Tensor,
    seeds: Tensor,
    teacher_logits: Tensor | None,
    y: Tensor,
    train_pos: Tensor,
    lam: float = 0.0,
    tau: float = 1.0,
    tempered_kd: bool = False,
    lfd: LFDTarget | None = None,
    hfd_logits: Tensor | None = None,
    hfd_teacher: Tensor | None = None,
    hfd_edge_index: Tensor | None = None,
    hfd_edge_weight: Tensor | None = None,
    chunk_size: int | None = None,
    scales: dict[str, Tensor | float] | None = None,
) -> tuple[Tensor, dict[str, float]]:
    r"""One mini-batch step of ``method`` with no neighbour of the student in the batch.

    * CE on the batch's labelled nodes (``train_pos``: positions in ``seeds``), KD on every seed.
    * LFD from the seeds alone: :func:`~g2m.losses.node.lfd_loss_on` over ``lfd``, the
      :class:`~g2m.losses.node.LFDTarget` built once per graph, with ``reduction="mean"``.
    * HFD on a sample of edges: ``hfd_edge_index`` (local indices into ``hfd_logits``, the student's
      logits of the sampled edges' endpoints; ``hfd_teacher`` the teacher's) drawn uniformly from the
      graph's edges. The mean KL over a uniform sample is an unbiased estimate of the full HFD,
      :math:`\mathbb{E}\big[\frac{1}{m}\sum_{e \in S} w_e \mathrm{KL}_e\big] = \frac{1}{|E|}\sum_{e \in E} w_e
      \mathrm{KL}_e`, its variance falling as :math:`1/m`.

    ``scales`` multiplies a term (``ce``, ``kd``, ``lfd``, ``hfd``) by a factor: data-parallel
    training (:mod:`g2m.distributed`) turns each rank's mean into its share of the global batch's.

    Shapes: seed_logits ``[B, C]``; seeds ``[B]`` (rows of ``teacher_logits``, ``y`` and ``lfd``);
    hfd_logits ``[U, C]``; hfd_edge_index ``[2, m]``; output: the loss and its parts.
    """
    _check_objective(method, teacher_logits, lam)
    if method in ("lfd", "ffg2m") and lfd is None:
        raise ValueError(f"method {method!r} needs the graph's LFD target (lfd_target) in mini-batches")
    terms = (
        []
        if teacher_logits is None
        else teacher_terms(method, teacher_logits, tau=tau, tempered_kd=tempered_kd, chunk_size=chunk_size, lfd=lfd)
    )
    sample = None
    if hfd_edge_index is not None:
        assert hfd_logits is not None and hfd_teacher is not None, "sampled HFD edges need their ends' logits"
        sample = HFDSample(hfd_logits, hfd_teacher, hfd_edge_index, hfd_edge_weight)
    step = Step(seed_logits, y[seeds], train_pos, seeds, hfd=sample, scales=scales)
    return Objective(lam, terms)(step)
