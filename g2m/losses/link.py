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


def link_bce(pos_scores: Tensor, neg_scores: Tensor) -> Tensor:
    r""":math:`-\frac{1}{P}\sum \log\sigma(s^+) - \frac{1}{Q}\sum \log(1-\sigma(s^-))`."""
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


#: anchors x contexts^2 elements that one chunk of the rank loss may hold at once
RANK_CHUNK_ELEMENTS = 1 << 23


def llp_rank_loss(
    student_scores: Tensor,
    teacher_scores: Tensor,
    group: Tensor,
    margin: float = 0.1,
    num_groups: int | None = None,
    average: str = "informative-pairs",
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
    direction, scaled down by the share of informative pairs.

    The pairs are never listed: each anchor's contexts are laid out as a zero-padded row
    and the pairwise differences taken as ``[anchors, K, K]`` blocks, a chunk of anchors
    at a time (:data:`RANK_CHUNK_ELEMENTS`), keeping the upper triangle of real entries.
    """
    if average not in RANK_AVERAGES:
        raise ValueError(f"rank-loss average must be one of {RANK_AVERAGES}, got {average!r}")
    _check_group(group)
    if group.numel() == 0:
        return student_scores.sum() * 0.0
    num_groups = int(group.max()) + 1 if num_groups is None else num_groups
    counts = torch.bincount(group, minlength=num_groups)
    total_pairs = int((counts * (counts - 1) // 2).sum())
    s = _padded(student_scores, group, num_groups, counts)
    t = _padded(teacher_scores.detach(), group, num_groups, counts)
    k = s.size(1)
    upper = torch.ones(k, k, dtype=torch.bool, device=s.device).triu(1)
    real = torch.arange(k, device=s.device) < counts[:, None]  # [G, K]
    hinge_sum, informative = s.new_zeros(()), 0
    step = max(1, RANK_CHUNK_ELEMENTS // max(k * k, 1))
    for a in range(0, num_groups, step):
        b = min(a + step, num_groups)
        dt = t[a:b, :, None] - t[a:b, None, :]
        valid = upper & real[a:b, :, None] & real[a:b, None, :] & (dt.abs() > margin)
        hinge = F.relu(margin - torch.sign(dt) * (s[a:b, :, None] - s[a:b, None, :]))
        hinge_sum = hinge_sum + (hinge * valid).sum()
        informative += int(valid.sum())
    if informative == 0:
        constant = margin if average == "all-pairs" and total_pairs else 0.0
        return student_scores.sum() * 0.0 + constant
    if average == "informative-pairs":
        return hinge_sum / informative
    return (hinge_sum + margin * (total_pairs - informative)) / total_pairs


def llp_dist_loss(
    student_scores: Tensor,
    teacher_scores: Tensor,
    group: Tensor,
    num_groups: int | None = None,
    tau: float = 1.0,
    backend: str = "auto",
) -> Tensor:
    r"""LLP distribution-based matching, averaged over anchors :math:`a`:

    .. math:: \mathcal{L}_{dist} = \frac{1}{A}\sum_a \mathrm{KL}\big(
              \mathrm{softmax}_{m \in C(a)}(t_m/\tau) \,\|\,
              \mathrm{softmax}_{m \in C(a)}(s_m/\tau)\big)

    with the softmax taken over each anchor's contexts by a scatter log-softmax.
    """
    _check_group(group)
    num_groups = int(group.max()) + 1 if num_groups is None else num_groups
    log_p_t = scatter_log_softmax(teacher_scores.detach() / tau, group, num_groups, backend=backend)
    log_p_s = scatter_log_softmax(student_scores / tau, group, num_groups, backend=backend)
    per_entry = log_p_t.exp() * (log_p_t - log_p_s)
    present = torch.bincount(group, minlength=num_groups) > 0
    per_anchor = scatter(per_entry, group, num_groups, "sum", backend=backend)
    return per_anchor[present].mean()


def logit_matching_loss(student_scores: Tensor, teacher_scores: Tensor) -> Tensor:
    """Baseline: mean squared error between student and teacher link scores."""
    return F.mse_loss(student_scores, teacher_scores.detach())


def representation_matching_loss(student_emb: Tensor, teacher_emb: Tensor) -> Tensor:
    r"""Baseline: :math:`\frac1N\sum_i 1 - \cos(h^S_i, h^T_i)` (equal widths required)."""
    if student_emb.shape != teacher_emb.shape:
        raise ValueError(
            f"representation matching needs equal shapes, got {tuple(student_emb.shape)} "
            f"and {tuple(teacher_emb.shape)}; set the student width to the teacher's"
        )
    return (1.0 - F.cosine_similarity(student_emb, teacher_emb.detach(), dim=-1)).mean()
