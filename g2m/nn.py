"""Loss modules for your own training loop: thin ``nn.Module`` wrappers over the pure losses of
:mod:`g2m.losses`, holding their options, as ``torch.nn.CrossEntropyLoss`` wraps
``torch.nn.functional.cross_entropy``. The maths is in each function's docstring.

Example::

    loss_fn = g2m.nn.FFG2MLoss(tau=1.0, cached=True)           # the teacher's side built once
    loss = loss_fn(student(x), teacher_logits, edge_index)     # LFD + HFD, every node
    loss = loss_fn(student(x[seeds]), teacher_logits, edge_index, index=seeds)  # a mini-batch
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from g2m.losses.dirichlet import layerwise_dirichlet_loss
from g2m.losses.link import llp_dist_loss, llp_rank_loss
from g2m.losses.node import (
    HFDTarget,
    LFDTarget,
    hfd_loss,
    hfd_loss_on,
    hfd_target,
    kd_loss,
    kd_temperature,
    lfd_loss,
    lfd_loss_on,
    lfd_target,
)


def _check_rows(student_logits: Tensor, teacher_logits: Tensor, index: Tensor | None) -> None:
    """One clear error when the student's rows are not the teacher's (or ``index``'s) nodes."""
    n = teacher_logits.size(0)
    if index is None:
        if student_logits.size(0) != n:
            raise ValueError(
                f"student_logits has {student_logits.size(0)} rows and teacher_logits {n}: pass index= "
                "(the nodes of the student's rows) to compute the loss on a subset of the nodes"
            )
        return
    if index.dim() != 1 or index.dtype != torch.long:
        raise ValueError(
            f"index must be a 1-D long tensor of node ids, got {index.dtype} of shape {tuple(index.shape)}"
        )
    if index.numel() != student_logits.size(0):
        raise ValueError(f"index names {index.numel()} nodes but student_logits has {student_logits.size(0)} rows")
    if index.numel() and (int(index.min()) < 0 or int(index.max()) >= n):
        raise ValueError(f"index must hold node ids in [0, {n}), got [{int(index.min())}, {int(index.max())}]")


def _check_edges(edge_index: Tensor, num_nodes: int) -> None:
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"edge_index must have shape [2, E], got {tuple(edge_index.shape)}")
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes):
        raise ValueError(f"edge_index must hold node ids in [0, {num_nodes}) (the teacher's rows)")


class KDLoss(nn.Module):
    r"""GLNN's knowledge distillation :math:`\frac1N\sum_i \mathrm{KL}(p^T_i \| p^S_i)`
    (:func:`g2m.losses.node.kd_loss`).

    Args:
        tau: temperature of both softmaxes (GLNN and FF-G2M's official code: 1).

    Shapes:
        student_logits: ``[N, C]``, or ``[B, C]`` with ``index`` ``[B]`` (a mini-batch of nodes);
        teacher_logits: ``[N, C]``; output: a scalar.

    Example:
        >>> t = torch.randn(5, 3)
        >>> seeds = torch.tensor([0, 3])
        >>> loss_fn = KDLoss()
        >>> bool(loss_fn(t[seeds], t, index=seeds).abs() < 1e-6)  # the teacher's own rows: KL 0
        True
    """

    def __init__(self, tau: float = 1.0) -> None:
        super().__init__()
        if tau <= 0:
            raise ValueError(f"tau must be positive, got {tau}")
        self.tau = tau

    def forward(self, student_logits: Tensor, teacher_logits: Tensor, index: Tensor | None = None) -> Tensor:
        _check_rows(student_logits, teacher_logits, index)
        return kd_loss(student_logits, teacher_logits if index is None else teacher_logits[index], self.tau)


class _EdgeLoss(nn.Module):
    """Options and the teacher-only target of an edge loss; with ``cached=True`` the target is
    built on the first call and reused while the same teacher, edge and weight tensors come back
    (PyG's ``cached=True`` habit; another tensor, or one changed in place, rebuilds it)."""

    def __init__(self, tau: float = 1.0, chunk_size: int | None = None, cached: bool = False) -> None:
        super().__init__()
        if tau <= 0:
            raise ValueError(f"tau must be positive, got {tau}")
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be positive (None: every edge at once), got {chunk_size}")
        self.tau, self.chunk_size, self.cached = tau, chunk_size, cached
        self._target: Any = None
        self._key: tuple | None = None

    def _build(self, teacher_logits: Tensor, edge_index: Tensor, edge_weight: Tensor | None) -> Any:
        raise NotImplementedError

    def _target_of(self, teacher_logits: Tensor, edge_index: Tensor, edge_weight: Tensor | None) -> Any:
        key = tuple(
            (t.data_ptr(), t._version, tuple(t.shape), t.device) if t is not None else None
            for t in (teacher_logits, edge_index, edge_weight)
        )
        if self.cached and self._target is not None and key == self._key:
            return self._target
        _check_edges(edge_index, teacher_logits.size(0))
        target = self._build(teacher_logits, edge_index, edge_weight)
        if self.cached:
            self._target, self._key = target, key
        return target

    def _lfd(self, teacher_logits: Tensor, edge_index: Tensor, edge_weight: Tensor | None, tau: float) -> LFDTarget:
        return lfd_target(teacher_logits, edge_index, tau, self.chunk_size, edge_weight=edge_weight, per_node=True)

    def _hfd(self, teacher_logits: Tensor, edge_index: Tensor, edge_weight: Tensor | None) -> HFDTarget:
        return hfd_target(teacher_logits, edge_index, self.tau, edge_weight)


class LFDLoss(_EdgeLoss):
    r"""FF-G2M's low-frequency distillation: each node's student distribution matches its
    neighbours' (and its own) teacher distributions (:func:`g2m.losses.node.lfd_loss`).

    The target (:func:`g2m.losses.node.lfd_target`) depends on the teacher and the graph alone:
    with ``cached=True`` it is built once and reused while the same tensors come back; with
    ``index`` the loss is the mean over the edges into those nodes
    (:func:`g2m.losses.node.lfd_loss_on`).

    Args:
        tau: softmax temperature (FF-G2M's official code: 1 for LFD).
        chunk_size: edges per chunk of the scatter (None: all at once).
        cached: keep the teacher-only target between calls.

    Shapes:
        student_logits: ``[N, C]``, or ``[B, C]`` with ``index`` ``[B]``; teacher_logits: ``[N, C]``;
        edge_index: ``[2, E]`` (source, target); edge_weight: ``[E]`` or None; output: a scalar.

    Example:
        >>> t = torch.randn(4, 3)
        >>> e = torch.tensor([[0, 1, 2], [1, 2, 3]])
        >>> loss_fn = LFDLoss(cached=True)
        >>> seeds = torch.tensor([2, 3])
        >>> loss_fn(t[seeds].clone().requires_grad_(), t, e, index=seeds).requires_grad
        True
    """

    def _build(self, teacher_logits: Tensor, edge_index: Tensor, edge_weight: Tensor | None) -> LFDTarget:
        return self._lfd(teacher_logits, edge_index, edge_weight, self.tau)

    def forward(
        self,
        student_logits: Tensor,
        teacher_logits: Tensor,
        edge_index: Tensor,
        edge_weight: Tensor | None = None,
        index: Tensor | None = None,
    ) -> Tensor:
        _check_rows(student_logits, teacher_logits, index)
        if index is None and not self.cached:
            _check_edges(edge_index, teacher_logits.size(0))
            return lfd_loss(
                student_logits, teacher_logits, edge_index, self.tau, self.chunk_size, edge_weight=edge_weight
            )
        target = self._target_of(teacher_logits, edge_index, edge_weight)
        return lfd_loss_on(student_logits, target, index, self.tau, reduction="share" if index is None else "mean")


class HFDLoss(_EdgeLoss):
    r"""FF-G2M's high-frequency distillation: per edge, the softmax over classes of
    :math:`|z_i - z_j|/\tau` of the student matches the teacher's
    (:func:`g2m.losses.node.hfd_loss`).

    With ``cached=True`` the teacher's side of every edge (:func:`g2m.losses.node.hfd_target`)
    is built once; with ``index`` the loss is the mean over the edges with both ends among those
    nodes (:func:`g2m.losses.node.hfd_loss_on`).

    Args:
        tau: HFD's temperature (both softmaxes).
        chunk_size: edges per chunk (None: all at once).
        cached: keep the teacher-only target between calls.

    Shapes:
        as :class:`LFDLoss`; one direction per undirected edge gives the same value.

    Example:
        >>> t = torch.randn(3, 4)
        >>> one_way, both = torch.tensor([[0, 1], [1, 2]]), torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> s = torch.randn(3, 4)
        >>> bool(torch.isclose(HFDLoss()(s, t, one_way), HFDLoss()(s, t, both)))
        True
    """

    def _build(self, teacher_logits: Tensor, edge_index: Tensor, edge_weight: Tensor | None) -> HFDTarget:
        return self._hfd(teacher_logits, edge_index, edge_weight)

    def forward(
        self,
        student_logits: Tensor,
        teacher_logits: Tensor,
        edge_index: Tensor,
        edge_weight: Tensor | None = None,
        index: Tensor | None = None,
    ) -> Tensor:
        _check_rows(student_logits, teacher_logits, index)
        if index is None and not self.cached:
            _check_edges(edge_index, teacher_logits.size(0))
            return hfd_loss(student_logits, teacher_logits, edge_index, self.tau, self.chunk_size, edge_weight)
        return hfd_loss_on(
            student_logits, self._target_of(teacher_logits, edge_index, edge_weight), index, self.chunk_size
        )


class FFG2MLoss(_EdgeLoss):
    r"""FF-G2M's distillation term :math:`\mathcal{L}_{LFD} + \mathcal{L}_{HFD}`, as its official
    code computes it: LFD on the untempered softmax, ``tau`` in HFD only. Add the label loss
    yourself, weighted by :math:`\lambda` (:func:`g2m.losses.objectives.node_objective` does).

    Both terms' teacher-only parts depend on the teacher and the graph alone
    (:func:`g2m.losses.node.lfd_target`, :func:`g2m.losses.node.hfd_target`). With
    ``cached=True`` they are built on the first call and reused while the same ``teacher_logits``,
    ``edge_index`` and ``edge_weight`` tensors come back (PyG's ``cached=True`` habit; another
    tensor, or one changed in place, rebuilds them): a training loop then pays for the student's
    side alone. With ``index`` (a mini-batch of nodes, ``student_logits`` their rows) each term is
    its mean over the batch's edges, as g2m's own mini-batch trainer takes LFD.

    Args:
        tau: HFD's temperature.
        chunk_size: edges per chunk of the scatter (None: all at once).
        cached: keep the teacher-only targets between calls.
        tempered_kd: LFD at ``tau`` too (default: untempered, the official code's;
            :func:`g2m.losses.node.kd_temperature`, the rule g2m's own trainer follows).

    Shapes:
        as :class:`LFDLoss`.

    Example:
        >>> s, t = torch.randn(4, 3), torch.randn(4, 3)
        >>> e = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
        >>> loss_fn = FFG2MLoss(tau=0.5, cached=True)
        >>> first, again = loss_fn(s, t, e), loss_fn(s, t, e)  # the second call reuses the targets
        >>> bool(torch.equal(first, again))
        True
        >>> seeds = torch.tensor([1, 2])
        >>> loss_fn(s[seeds], t, e, index=seeds).shape  # a mini-batch of nodes
        torch.Size([])
    """

    def __init__(
        self, tau: float = 1.0, chunk_size: int | None = None, cached: bool = False, tempered_kd: bool = False
    ) -> None:
        super().__init__(tau, chunk_size, cached)
        self.lfd_tau = kd_temperature(tau, tempered_kd)

    def _build(self, teacher_logits: Tensor, edge_index: Tensor, edge_weight: Tensor | None):
        lfd = self._lfd(teacher_logits, edge_index, edge_weight, self.lfd_tau)
        return lfd, self._hfd(teacher_logits, edge_index, edge_weight)

    def forward(
        self,
        student_logits: Tensor,
        teacher_logits: Tensor,
        edge_index: Tensor,
        edge_weight: Tensor | None = None,
        index: Tensor | None = None,
    ) -> Tensor:
        _check_rows(student_logits, teacher_logits, index)
        lfd, hfd = self._target_of(teacher_logits, edge_index, edge_weight)
        reduction = "share" if index is None else "mean"
        return lfd_loss_on(student_logits, lfd, index, self.lfd_tau, reduction=reduction) + hfd_loss_on(
            student_logits, hfd, index, self.chunk_size
        )


class DirichletLoss(nn.Module):
    r"""TINED's Dirichlet energy distillation of a student run layer by layer
    (:func:`g2m.losses.dirichlet.layerwise_dirichlet_loss`, the maths there): each layer's DE ratio
    matched to its teacher step's.

    Args:
        log: compare the ratios' logs rather than the ratios (TINED's ``DE_log``; its default: no).

    Shapes:
        pairs: each layer's ``([N, F], [N, F'])`` input and output; log_targets: ``[L]``;
        edge_index: ``[2, E]``; output: a scalar.

    Example:
        >>> x = torch.eye(3)
        >>> edges = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> smooth = torch.ones(3, 3) / 3 + 0.01 * torch.eye(3)  # nearly averages every row
        >>> loss_fn = DirichletLoss(log=True)
        >>> bool(loss_fn([(x, x @ smooth)], torch.zeros(1), edges) > 0)  # the teacher kept its energy
        True
    """

    def __init__(self, log: bool = False) -> None:
        super().__init__()
        self.log = log

    def forward(
        self, pairs: list[tuple[Tensor, Tensor]], log_targets: Tensor, edge_index: Tensor, num_nodes: int | None = None
    ) -> Tensor:
        return layerwise_dirichlet_loss(pairs, log_targets, edge_index, num_nodes, self.log)


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

    Example:
        >>> t = torch.tensor([2.0, 0.0, 1.0, 1.5, -1.0, 0.0])
        >>> group = torch.tensor([0, 0, 0, 1, 1, 1])
        >>> bool(LLPLoss()(t.clone(), t, group).abs() < 1e-6)  # the teacher's own order and softmax
        True
        >>> bool(LLPLoss()(-t, t, group) > 1.0)  # every informative pair in the wrong order
        True
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
