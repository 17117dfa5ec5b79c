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
    return F.binary_cross_entropy_with_logits(pos_scores, torch.ones_like(pos_scores)) + \
        F.binary_cross_entropy_with_logits(neg_scores, torch.zeros_like(neg_scores))


def _check_group(group: Tensor) -> None:
    if group.numel() > 1 and bool((group[1:] < group[:-1]).any()):
        raise ValueError("group must be non-decreasing (contexts of one anchor contiguous)")


def group_pairs(group: Tensor, num_groups: int | None = None) -> tuple[Tensor, Tensor]:
    """All index pairs ``(i, j)``, ``i < j``, of entries in the same group, vectorised:
    ``sum_g k_g (k_g - 1) / 2`` pairs for groups of sizes ``k_g``."""
    _check_group(group)
    m = group.numel()
    if m == 0:
        empty = torch.empty(0, dtype=torch.long, device=group.device)
        return empty, empty
    num_groups = int(group.max()) + 1 if num_groups is None else num_groups
    counts = torch.bincount(group, minlength=num_groups)
    starts = torch.cumsum(counts, 0) - counts
    rep = counts[group]  # partners of each entry, itself included
    i = torch.repeat_interleave(torch.arange(m, device=group.device), rep)
    first = torch.repeat_interleave(torch.cumsum(rep, 0) - rep, rep)
    j = starts[group[i]] + (torch.arange(i.numel(), device=group.device) - first)
    keep = i < j
    return i[keep], j[keep]


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
    """
    if average not in RANK_AVERAGES:
        raise ValueError(f"rank-loss average must be one of {RANK_AVERAGES}, got {average!r}")
    i, j = group_pairs(group, num_groups)
    dt = teacher_scores.detach()[i] - teacher_scores.detach()[j]
    valid = dt.abs() > margin
    total_pairs = i.numel()
    if not bool(valid.any()):
        constant = margin if average == "all-pairs" and total_pairs else 0.0
        return student_scores.sum() * 0.0 + constant
    i, j, r = i[valid], j[valid], torch.sign(dt[valid])
    hinge = F.relu(-r * (student_scores[i] - student_scores[j]) + margin)
    if average == "informative-pairs":
        return hinge.mean()
    return (hinge.sum() + margin * (total_pairs - hinge.numel())) / total_pairs


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
