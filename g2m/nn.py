"""Loss modules for your own training loop: thin ``nn.Module`` wrappers over the pure losses of
:mod:`g2m.losses`, holding their options, as ``torch.nn.CrossEntropyLoss`` wraps
``torch.nn.functional.cross_entropy``. The maths is in each function's docstring.

Example::

    loss_fn = g2m.nn.FFG2MLoss(tau=1.0)
    loss = loss_fn(student(x), teacher_logits, edge_index)   # LFD + HFD
"""

from __future__ import annotations

import torch  # noqa: F401  (the Examples use it)
from torch import Tensor, nn

from g2m.losses.link import llp_dist_loss, llp_rank_loss
from g2m.losses.node import LFDTarget, hfd_loss, kd_loss, lfd_loss, lfd_loss_on, lfd_target


class KDLoss(nn.Module):
    r"""GLNN's knowledge distillation :math:`\frac1N\sum_i \mathrm{KL}(p^T_i \| p^S_i)`
    (:func:`g2m.losses.node.kd_loss`).

    Args:
        tau: temperature of both softmaxes (GLNN and FF-G2M's official code: 1).

    Shapes:
        student_logits, teacher_logits: ``[N, C]``; output: a scalar.
    """

    def __init__(self, tau: float = 1.0) -> None:
        super().__init__()
        if tau <= 0:
            raise ValueError(f"tau must be positive, got {tau}")
        self.tau = tau

    def forward(self, student_logits: Tensor, teacher_logits: Tensor) -> Tensor:
        return kd_loss(student_logits, teacher_logits, self.tau)


class _EdgeLoss(nn.Module):
    def __init__(self, tau: float = 1.0, chunk_size: int | None = None) -> None:
        super().__init__()
        if tau <= 0:
            raise ValueError(f"tau must be positive, got {tau}")
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be positive (None: every edge at once), got {chunk_size}")
        self.tau, self.chunk_size = tau, chunk_size


class LFDLoss(_EdgeLoss):
    r"""FF-G2M's low-frequency distillation: each node's student distribution matches its
    neighbours' (and its own) teacher distributions (:func:`g2m.losses.node.lfd_loss`).

    Args:
        tau: softmax temperature (FF-G2M's official code: 1 for LFD).
        chunk_size: edges per chunk of the scatter (None: all at once).

    Shapes:
        student_logits, teacher_logits: ``[N, C]``; edge_index: ``[2, E]`` (source, target);
        edge_weight: ``[E]`` or None; output: a scalar.
    """

    def forward(
        self, student_logits: Tensor, teacher_logits: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None
    ) -> Tensor:
        return lfd_loss(student_logits, teacher_logits, edge_index, self.tau, self.chunk_size, edge_weight=edge_weight)


class HFDLoss(_EdgeLoss):
    r"""FF-G2M's high-frequency distillation: per edge, the softmax over classes of
    :math:`|z_i - z_j|/\tau` of the student matches the teacher's
    (:func:`g2m.losses.node.hfd_loss`).

    Shapes:
        as :class:`LFDLoss`; one direction per undirected edge gives the same value.
    """

    def forward(
        self, student_logits: Tensor, teacher_logits: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None
    ) -> Tensor:
        return hfd_loss(student_logits, teacher_logits, edge_index, self.tau, self.chunk_size, edge_weight)


class FFG2MLoss(_EdgeLoss):
    r"""FF-G2M's distillation term :math:`\mathcal{L}_{LFD} + \mathcal{L}_{HFD}`, as its official
    code computes it: LFD on the untempered softmax, ``tau`` in HFD only. Add the label loss
    yourself, weighted by :math:`\lambda` (:func:`g2m.losses.objectives.node_objective` does).

    LFD's target depends on the teacher and the graph alone (:func:`g2m.losses.node.lfd_target`).
    With ``cached=True`` it is built on the first call and reused while the same ``teacher_logits``
    and ``edge_index`` tensors come back (PyG's ``cached=True`` habit; another tensor, or one changed
    in place, rebuilds it): a training loop then pays for the student's terms alone.

    Args:
        tau: HFD's temperature.
        chunk_size: edges per chunk of the scatter (None: all at once).
        cached: keep LFD's teacher-only target between calls.

    Shapes:
        as :class:`LFDLoss`.

    Example:
        >>> s, t = torch.randn(4, 3), torch.randn(4, 3)
        >>> e = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
        >>> loss_fn = FFG2MLoss(tau=0.5, cached=True)
        >>> first, again = loss_fn(s, t, e), loss_fn(s, t, e)  # the second call reuses LFD's target
        >>> bool(torch.equal(first, again))
        True
    """

    def __init__(self, tau: float = 1.0, chunk_size: int | None = None, cached: bool = False) -> None:
        super().__init__(tau, chunk_size)
        self.cached = cached
        self._target: LFDTarget | None = None
        self._key: tuple | None = None

    def _lfd_target(self, teacher_logits: Tensor, edge_index: Tensor, edge_weight: Tensor | None, n: int) -> LFDTarget:
        key = tuple(
            (t.data_ptr(), t._version, tuple(t.shape), t.device) if t is not None else None
            for t in (teacher_logits, edge_index, edge_weight)
        )
        if self.cached and self._target is not None and key == self._key:
            return self._target
        target = lfd_target(
            teacher_logits, edge_index, 1.0, self.chunk_size, edge_weight=edge_weight, num_nodes=n, per_node=False
        )
        if self.cached:
            self._target, self._key = target, key
        return target

    def forward(
        self, student_logits: Tensor, teacher_logits: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None
    ) -> Tensor:
        target = self._lfd_target(teacher_logits, edge_index, edge_weight, student_logits.size(0))
        return lfd_loss_on(student_logits, target, None, 1.0, reduction="share") + hfd_loss(
            student_logits, teacher_logits, edge_index, self.tau, self.chunk_size, edge_weight
        )


class LLPLoss(nn.Module):
    r"""LLP's relational distillation over (anchor, context) pairs: ``w_rank`` times the rank
    loss plus ``w_dist`` times the distribution loss (:func:`g2m.losses.link.llp_rank_loss`,
    :func:`g2m.losses.link.llp_dist_loss`); contexts come from
    :func:`g2m.data.sampling.sample_contexts`.

    Args:
        w_rank: the rank term's weight.
        w_dist: the distribution term's weight.
        margin: the rank loss's margin :math:`\delta`.
        tau: the distribution loss's temperature.
        rank_average: ``informative-pairs`` or ``all-pairs`` (the official code).

    Shapes:
        student_scores, teacher_scores, group: ``[M]`` (scores of each anchor's contexts, sorted
        by ``group``, the anchor's index); output: a scalar.
    """

    def __init__(
        self,
        w_rank: float = 1.0,
        w_dist: float = 1.0,
        margin: float = 0.1,
        tau: float = 1.0,
        rank_average: str = "informative-pairs",
    ) -> None:
        super().__init__()
        if min(w_rank, w_dist) < 0 or w_rank + w_dist == 0:
            raise ValueError(f"w_rank and w_dist must be non-negative and not both 0, got {w_rank}, {w_dist}")
        self.w_rank, self.w_dist, self.margin, self.tau, self.rank_average = w_rank, w_dist, margin, tau, rank_average

    def forward(
        self, student_scores: Tensor, teacher_scores: Tensor, group: Tensor, num_groups: int | None = None
    ) -> Tensor:
        loss = student_scores.new_zeros(())
        if self.w_rank:
            loss = loss + self.w_rank * llp_rank_loss(
                student_scores, teacher_scores, group, self.margin, num_groups, self.rank_average
            )
        if self.w_dist:
            loss = loss + self.w_dist * llp_dist_loss(student_scores, teacher_scores, group, num_groups, self.tau)
        return loss
