r"""Link-level losses: supervised BCE, LLP's relational distillation and the
logit / representation matching baselines. Pure functions of tensors.

Relational losses take flat context lists: entry :math:`m` pairs anchor
``group[m]`` with one context node, with teacher score :math:`t_m` and student
score :math:`s_m`; ``group`` is non-decreasing (entries of one anchor are
contiguous), as :func:`g2m.data.sampling.sample_contexts` returns them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from g2m.methods import RANK_AVERAGES
from g2m.ops import scatter, scatter_log_softmax
from g2m.ops.pairs import PAIR_CHUNK_ELEMENTS, grouped_pair_hinge


def link_bce(pos_scores: Tensor, neg_scores: Tensor) -> Tensor:
    r""":math:`-\frac{1}{P}\sum \log\sigma(s^+) - \frac{1}{Q}\sum \log(1-\sigma(s^-))`.

    Example:
        >>> round(float(link_bce(torch.tensor([4.0]), torch.tensor([-4.0]))), 4)  # both sides right
        0.0363
    """
    return F.binary_cross_entropy_with_logits(
        pos_scores, torch.ones_like(pos_scores)
    ) + F.binary_cross_entropy_with_logits(neg_scores, torch.zeros_like(neg_scores))


def _check_group(group: Tensor) -> None:
    if group.numel() > 1 and bool((group[1:] < group[:-1]).any()):
        raise ValueError("group must be non-decreasing (contexts of one anchor contiguous)")


def _padded(values: Tensor, group: Tensor, num_groups: int, counts: Tensor) -> Tensor:
    """``[num_groups, max count]`` rows of each group's entries, in order, zero-padded
    (differentiable in ``values``)."""
    starts = torch.cumsum(counts, 0) - counts
    pos = torch.arange(group.numel(), device=group.device) - starts[group]
    out = values.new_zeros(num_groups, int(counts.max()))
    return out.index_put((group, pos), values)


#: anchors x contexts^2 pair entries that one chunk of the rank loss holds at once (forward and
#: backward: :func:`g2m.ops.pairs.grouped_pair_hinge`)
RANK_CHUNK_ELEMENTS = PAIR_CHUNK_ELEMENTS

#: how a relational loss reduces its anchors' terms: their mean, or their sum (a mini-batch's
#: share, to be divided by the whole batch's denominator: :func:`llp_rank_denominator`)
REDUCTIONS = ("mean", "sum")


def _check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _rank_operands(
    student_scores: Tensor, teacher_scores: Tensor, group: Tensor, num_groups: int | None
) -> tuple[Tensor, Tensor, Tensor]:
    num_groups = int(group.max()) + 1 if num_groups is None else num_groups
    counts = torch.bincount(group, minlength=num_groups)
    s = _padded(student_scores, group, num_groups, counts)
    t = _padded(teacher_scores.detach(), group, num_groups, counts)
    return s, t, counts


def llp_rank_denominator(
    teacher_scores: Tensor,
    group: Tensor,
    margin: float = 0.1,
    num_groups: int | None = None,
    average: str = "informative-pairs",
) -> int:
    """The number :func:`llp_rank_loss` divides its sum by under ``average``: the informative pairs
    (teacher scores more than ``margin`` apart) or all pairs of contexts of one anchor. A
    mini-batch's loss split into chunks of anchors is the sum of each chunk's
    ``reduction="sum"`` loss divided by this number of the whole batch.

    Example:
        >>> group = torch.tensor([0, 0, 0, 1, 1])
        >>> t = torch.tensor([1.0, 0.0, 0.5, 1.0, 1.0])
        >>> llp_rank_denominator(t, group, margin=0.1)  # pairs outside the margin: (0,1), (0,2), (1,2)
        3
    """
    if average not in RANK_AVERAGES:
        raise ValueError(f"rank-loss average must be one of {RANK_AVERAGES}, got {average!r}")
    _check_group(group)
    if group.numel() == 0:
        return 0
    t = teacher_scores.detach()
    _, t_pad, counts = _rank_operands(t, t, group, num_groups)
    if average == "all-pairs":
        return int((counts * (counts - 1) // 2).sum())
    with torch.no_grad():
        return int(grouped_pair_hinge(torch.zeros_like(t_pad), t_pad, counts, margin, RANK_CHUNK_ELEMENTS)[1])


def llp_rank_loss(
    student_scores: Tensor,
    teacher_scores: Tensor,
    group: Tensor,
    margin: float = 0.1,
    num_groups: int | None = None,
    average: str = "informative-pairs",
    reduction: str = "mean",
) -> Tensor:
    r"""LLP rank-based matching. For every anchor and every pair :math:`(m, n)` of
    its contexts whose teacher scores differ by more than ``margin`` (the informative
    pairs :math:`\mathcal{P}`), with :math:`r = \mathrm{sign}(t_m - t_n)`:

    .. math:: \mathcal{L}_{rank} = \frac{1}{|\mathcal{P}|}\sum_{(m,n) \in \mathcal{P}}
              \max\big(0,\; -r\,(s_m - s_n) + \delta\big)

    Zero when the student orders every such pair as the teacher does with a gap of at
    least :math:`\delta`. ``average="all-pairs"`` is the official LLP code
    (``nn.MarginRankingLoss`` over every pair, target 0 inside the margin): each of
    the :math:`|\mathcal{A}|` pairs within the margin adds the constant :math:`\delta`,
    and the sum is divided by all pairs, :math:`(\sum_{\mathcal{P}} \dots +
    \delta\,|\mathcal{A}|) / (|\mathcal{P}| + |\mathcal{A}|)`: the same gradient
    direction, scaled down by the share of informative pairs. ``reduction="sum"`` returns the
    numerator alone (divide by :func:`llp_rank_denominator` of the whole batch).

    The pairs are never listed: each anchor's contexts are laid out as a zero-padded row and
    :func:`g2m.ops.pairs.grouped_pair_hinge` walks ``[anchors, K, K]`` blocks a chunk at a time
    (:data:`RANK_CHUNK_ELEMENTS`) once, in the forward, so memory does not
    grow with the number of pairs.

    Example:
        >>> s = torch.tensor([0.0, 1.0, 0.5, 2.0, 0.0])
        >>> t = torch.tensor([1.0, 0.0, 0.5, 1.0, 0.0])
        >>> group = torch.tensor([0, 0, 0, 1, 1])
        >>> round(float(llp_rank_loss(s, t, group, margin=0.1)), 4)  # (1.1 + 0.6 + 0.6 + 0) / 4
        0.575
    """
    if average not in RANK_AVERAGES:
        raise ValueError(f"rank-loss average must be one of {RANK_AVERAGES}, got {average!r}")
    _check_reduction(reduction)
    _check_group(group)
    if group.numel() == 0:
        return student_scores.sum() * 0.0
    s, t, counts = _rank_operands(student_scores, teacher_scores, group, num_groups)
    hinge_sum, informative = grouped_pair_hinge(s, t, counts, margin, RANK_CHUNK_ELEMENTS)
    total_pairs = int((counts * (counts - 1) // 2).sum())
    if average == "all-pairs":
        hinge_sum = hinge_sum + margin * (total_pairs - int(informative))
    if reduction == "sum":
        return hinge_sum
    denominator = int(informative) if average == "informative-pairs" else total_pairs
    if denominator == 0:
        return student_scores.sum() * 0.0
    return hinge_sum / denominator


def llp_dist_loss(
    student_scores: Tensor,
    teacher_scores: Tensor,
    group: Tensor,
    num_groups: int | None = None,
    tau: float = 1.0,
    backend: str = "auto",
    reduction: str = "mean",
) -> Tensor:
    r"""LLP distribution-based matching, averaged over anchors :math:`a`:

    .. math:: \mathcal{L}_{dist} = \frac{1}{A}\sum_a \mathrm{KL}\big(
              \mathrm{softmax}_{m \in C(a)}(t_m/\tau) \,\|\,
              \mathrm{softmax}_{m \in C(a)}(s_m/\tau)\big)

    with the softmax taken over each anchor's contexts by a scatter log-softmax.
    ``reduction="sum"``: the sum over anchors (a chunk's share of a batch of :math:`A` anchors).

    Example:
        >>> t = torch.tensor([2.0, 0.0, 1.0, 1.0])
        >>> group = torch.tensor([0, 0, 1, 1])
        >>> bool(llp_dist_loss(t.clone(), t, group).abs() < 1e-6)  # each anchor's contexts: the same softmax
        True
        >>> bool(llp_dist_loss(t + 3.0, t, group).abs() < 1e-6)  # a shift per anchor changes no softmax
        True
    """
    _check_reduction(reduction)
    _check_group(group)
    num_groups = int(group.max()) + 1 if num_groups is None else num_groups
    log_p_t = scatter_log_softmax(teacher_scores.detach() / tau, group, num_groups, backend=backend)
    log_p_s = scatter_log_softmax(student_scores / tau, group, num_groups, backend=backend)
    per_entry = log_p_t.exp() * (log_p_t - log_p_s)
    present = torch.bincount(group, minlength=num_groups) > 0
    per_anchor = scatter(per_entry, group, num_groups, "sum", backend=backend)
    return per_anchor[present].sum() if reduction == "sum" else per_anchor[present].mean()


def logit_matching_loss(student_scores: Tensor, teacher_scores: Tensor) -> Tensor:
    """Baseline: mean squared error between student and teacher link scores.

    Example:
        >>> float(logit_matching_loss(torch.tensor([1.0, 3.0]), torch.tensor([1.0, 1.0])))  # (0 + 4) / 2
        2.0
    """
    return F.mse_loss(student_scores, teacher_scores.detach())


def representation_matching_loss(student_emb: Tensor, teacher_emb: Tensor) -> Tensor:
    r"""Baseline: :math:`\frac1N\sum_i 1 - \cos(h^S_i, h^T_i)` (equal widths required).

    Example:
        >>> h = torch.randn(4, 8)
        >>> bool(representation_matching_loss(2 * h, h).abs() < 1e-6)  # the same directions
        True
        >>> round(float(representation_matching_loss(-h, h)), 4)  # opposite directions: 1 - (-1)
        2.0
    """
    if student_emb.shape != teacher_emb.shape:
        raise ValueError(
            f"representation matching needs equal shapes, got {tuple(student_emb.shape)} "
            f"and {tuple(teacher_emb.shape)}; set the student width to the teacher's"
        )
    return (1.0 - F.cosine_similarity(student_emb, teacher_emb.detach(), dim=-1)).mean()
