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

from g2m.losses.terms import Objective, Step, teacher_terms
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
