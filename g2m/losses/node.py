r"""Node-level distillation losses: pure functions of logits and an edge index.

Notation: :math:`s_i, t_i \in \mathbb{R}^C` are student and teacher logits of
node :math:`i`, :math:`p^S_i = \mathrm{softmax}(s_i/\tau)`,
:math:`p^T_i = \mathrm{softmax}(t_i/\tau)`, and
:math:`\mathrm{KL}(p\,\|\,q) = \sum_c p_c (\log p_c - \log q_c)`.
Teacher logits are constants: no gradient flows into them.

The official GLNN and FF-G2M code (snap-research/graphless-neural-networks,
LirongWu/FF-G2M ``src/models.py``) use :math:`\tau = 1` in KD and LFD (softmax
of the raw logits) and a temperature in HFD only; :func:`g2m.losses.node_objective`
calls them that way unless ``tempered_kd`` is set.

Edge-wise losses never build an ``[E, C]`` tensor for all edges at once:
``chunk_size`` edges are handled at a time (``None``: all at once).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.utils import add_self_loops, remove_self_loops

from g2m.methods import SIMILARITY_KERNELS
from g2m.ops import scatter

#: edges per chunk of :func:`lfd_target`'s sums when no ``chunk_size`` is given: it keeps no
#: graph, so bounding its ``[chunk, C]`` rows costs nothing (at 47 classes, 2^20 edges are 188 MiB;
#: ogbn-products' 124M directed edges at once would be 23 GiB)
TARGET_CHUNK = 1 << 20


def _chunks(num: int, chunk_size: int | None):
    step = num if chunk_size is None or chunk_size <= 0 else chunk_size
    for start in range(0, num, max(step, 1)):
        yield start, min(start + step, num)


def _log_softmax(x: Tensor) -> Tensor:
    return F.log_softmax(x, dim=-1)


#: classes up to which :func:`row_log_softmax` takes the transposed kernel on the CPU
SMALL_CLASSES = 16


def row_log_softmax(x: Tensor) -> Tensor:
    r"""``F.log_softmax(x, dim=-1)`` of a ``[M, C]`` tensor, equal up to float rounding.

    On the CPU, torch's kernel over a short last dimension is slow (``[10556, 7]``: about 1.1 ms
    forward against 0.15 ms for the same softmax over the first dimension of the transposed view,
    backward 1.9 ms against 0.3 ms, one thread); for :math:`C \le` :data:`SMALL_CLASSES` on the CPU
    this takes the transposed view. Elsewhere it is ``F.log_softmax``.

    Example:
        >>> x = torch.randn(5, 3)
        >>> torch.allclose(row_log_softmax(x), torch.log_softmax(x, dim=-1))
        True
    """
    if x.device.type == "cpu" and x.dim() == 2 and x.size(1) <= SMALL_CLASSES:
        return F.log_softmax(x.t(), dim=0).t()
    return F.log_softmax(x, dim=-1)


def _edges_without_self_loops(
    edge_index: Tensor, edge_weight: Tensor | None, dtype: torch.dtype
) -> tuple[Tensor, Tensor | None]:
    """``edge_index`` without self-loops, with its ``edge_weight`` (checked: one per edge; no gradient)."""
    if edge_weight is not None:
        if edge_weight.shape != (edge_index.size(1),):
            raise ValueError(
                f"edge_weight must have one entry per edge ({edge_index.size(1)}), got shape {tuple(edge_weight.shape)}"
            )
        edge_weight = edge_weight.detach().to(dtype)
    return remove_self_loops(edge_index, edge_weight)


def label_ce(logits: Tensor, y: Tensor) -> Tensor:
    r"""Mean cross-entropy :math:`-\frac1n \sum_i \log \mathrm{softmax}(s_i)_{y_i}`.

    Example:
        >>> logits = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
        >>> round(float(label_ce(logits, torch.tensor([0, 1]))), 4)  # -log(e^2 / (e^2 + 1))
        0.1269
    """
    return F.cross_entropy(logits, y)


def kd_temperature(tau: float, tempered_kd: bool = False) -> float:
    r"""The temperature of KD and LFD in an objective whose HFD uses ``tau``: 1 (the softmax of the
    raw logits, as the official GLNN and FF-G2M code) unless ``tempered_kd`` asks for ``tau`` too
    (KRD tempers its KD).

    Example:
        >>> kd_temperature(2.0), kd_temperature(2.0, tempered_kd=True)
        (1.0, 2.0)
    """
    return tau if tempered_kd else 1.0


def kd_loss(student_logits: Tensor, teacher_logits: Tensor, tau: float = 1.0) -> Tensor:
    r"""GLNN knowledge distillation, averaged over nodes:

    .. math:: \mathcal{L}_{KD} = \frac1N \sum_i \mathrm{KL}(p^T_i \,\|\, p^S_i)

    With ``tau=1`` this is the usual KL between the two softmax distributions.

    Example:
        >>> t = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        >>> bool(kd_loss(t.clone(), t).abs() < 1e-6)  # a student equal to its teacher
        True
        >>> round(float(kd_loss(torch.zeros(2, 3), t)), 4)
        0.2782
    """
    log_p_t = F.log_softmax(teacher_logits.detach() / tau, dim=-1)
    log_p_s = F.log_softmax(student_logits / tau, dim=-1)
    return F.kl_div(log_p_s, log_p_t, reduction="batchmean", log_target=True)


def lfd_loss(
    student_logits: Tensor,
    teacher_logits: Tensor,
    edge_index: Tensor,
    tau: float = 1.0,
    chunk_size: int | None = None,
    backend: str = "auto",
    edge_weight: Tensor | None = None,
) -> Tensor:
    r"""FF-G2M low-frequency distillation over edges with self-loops
    :math:`\tilde E = E \cup \{(i, i)\}`; an edge ``(j, i)`` of ``edge_index``
    (source ``j``, target ``i``) asks node :math:`i`'s student distribution to
    match its neighbour :math:`j`'s teacher distribution:

    .. math:: \mathcal{L}_{LFD} = \frac{1}{|\tilde E|} \sum_{(j,i) \in \tilde E}
              \mathrm{KL}(p^T_j \,\|\, p^S_i)

    Because the teacher is constant this equals
    :math:`\frac{1}{|\tilde E|}\big(\sum_j d^{out}_j \sum_c p^T_{jc}\log p^T_{jc}
    - \sum_i \langle a_i, \log p^S_i\rangle\big)` with
    :math:`a_i = \sum_{(j,i)} p^T_j`, a scatter-sum of teacher rows built
    ``chunk_size`` edges at a time: memory is :math:`O(N C + \text{chunk}\cdot C)`.

    ``edge_weight`` (one per edge of ``edge_index``, self-loops get 1) turns the mean into a
    weighted mean, :math:`\sum_e w_e \mathrm{KL}_e / \sum_e w_e` (see
    :func:`teacher_agreement` and the ``ffg2m_safe`` objective).

    Example:
        >>> t = torch.tensor([[3.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
        >>> e = torch.tensor([[0, 1], [1, 0]])  # nodes 0 and 1 share a class; node 2 has only itself
        >>> bool(lfd_loss(t.clone(), t, e).abs() < 1e-6)  # each node already matches its neighbours
        True
        >>> round(float(lfd_loss(torch.zeros(3, 2), t, e)), 4)
        0.5023
    """
    target = lfd_target(
        teacher_logits,
        edge_index,
        tau,
        chunk_size,
        backend,
        edge_weight,
        num_nodes=student_logits.size(0),
        per_node=False,
    )
    return lfd_loss_on(student_logits, target, None, tau, reduction="share")


@dataclass(frozen=True)
class LFDTarget:
    r"""What LFD needs of the teacher and the graph, computed once (:func:`lfd_target`): with
    :math:`\tilde E` the edges plus self-loops and :math:`w` their weights (1 without weights),

    * ``agg`` ``[N, C]``: :math:`a_i = \sum_{(j,i) \in \tilde E} w_{ji}\, p^T_j`;
    * ``const`` ``[N]``: :math:`c_i = \sum_{(j,i) \in \tilde E} w_{ji} \sum_c p^T_{jc} \log p^T_{jc}`;
    * ``in_weight`` ``[N]``: :math:`W_i = \sum_{(j,i) \in \tilde E} w_{ji}`;
    * ``total``: :math:`W = \sum_{(j,i) \in \tilde E} w_{ji}`.

    Then :math:`\mathcal{L}_{LFD} = \frac{1}{W}\sum_i \big(c_i - \langle a_i, \log p^S_i\rangle\big)`: a
    sum over nodes of terms that need node :math:`i`'s student output alone. A mini-batch of nodes
    needs no neighbour of the student (:func:`lfd_loss_on`)."""

    agg: Tensor
    const: Tensor
    in_weight: Tensor
    total: Tensor | float

    def to(self, device: torch.device | str) -> LFDTarget:
        total = self.total.to(device) if isinstance(self.total, Tensor) else self.total
        return LFDTarget(self.agg.to(device), self.const.to(device), self.in_weight.to(device), total)


def lfd_target(
    teacher_logits: Tensor,
    edge_index: Tensor,
    tau: float = 1.0,
    chunk_size: int | None = None,
    backend: str = "auto",
    edge_weight: Tensor | None = None,
    num_nodes: int | None = None,
    per_node: bool = True,
) -> LFDTarget:
    r""":class:`LFDTarget` of ``teacher_logits`` over ``edge_index`` (``(j, i)``: source ``j``,
    target ``i``; self-loops are added with weight 1), built ``chunk_size`` edges at a time
    (default :data:`TARGET_CHUNK`) on the logits' device: memory :math:`O(NC + \text{chunk}\cdot C)`.
    ``per_node=False`` (the full-batch loss, which needs only their sums) leaves ``const`` a scalar
    and ``in_weight`` empty.

    Example:
        >>> t = torch.tensor([[3.0, 0.0], [0.0, 3.0]])
        >>> target = lfd_target(t, torch.tensor([[0, 1], [1, 0]]))
        >>> target.agg.sum(1)  # each node's incoming teacher rows: its own and one neighbour's
        tensor([2., 2.])
        >>> target.total  # edges, self-loops included
        4.0
    """
    num_nodes = teacher_logits.size(0) if num_nodes is None else num_nodes
    edge_index, edge_weight = _edges_without_self_loops(edge_index, edge_weight, teacher_logits.dtype)
    edge_index, edge_weight = add_self_loops(edge_index, edge_weight, fill_value=1.0, num_nodes=num_nodes)
    src, dst = edge_index
    with torch.no_grad():
        log_p_t = F.log_softmax(teacher_logits.detach() / tau, dim=-1)
        p_t = log_p_t.exp()
        neg_entropy = (p_t * log_p_t).sum(-1)
        agg = torch.zeros_like(p_t)
        for a, b in _chunks(src.numel(), chunk_size or TARGET_CHUNK):
            rows = p_t[src[a:b]] if edge_weight is None else p_t[src[a:b]] * edge_weight[a:b, None]
            agg += scatter(rows, dst[a:b], num_nodes, "sum", backend=backend)
        total = float(src.numel()) if edge_weight is None else edge_weight.sum()
        if not per_node:  # c = sum_j d_j(w) * sum_c p log p, by source: one bincount, no [E] product
            out_weight = (
                torch.bincount(src, minlength=num_nodes).to(p_t.dtype)
                if edge_weight is None
                else torch.zeros(num_nodes, dtype=p_t.dtype, device=p_t.device).index_add_(0, src, edge_weight)
            )
            return LFDTarget(agg, (out_weight * neg_entropy).sum(), agg.new_empty(0), total)
        weight = torch.ones_like(neg_entropy[src]) if edge_weight is None else edge_weight
        const = scatter((weight * neg_entropy[src])[:, None], dst, num_nodes, "sum", backend=backend).view(-1)
        in_weight = scatter(weight[:, None], dst, num_nodes, "sum", backend=backend).view(-1)
    return LFDTarget(agg, const, in_weight, total)


def lfd_loss_on(
    student_logits: Tensor,
    target: LFDTarget,
    index: Tensor | None = None,
    tau: float = 1.0,
    reduction: str = "mean",
) -> Tensor:
    r"""LFD on the nodes ``index`` (``None``: every node) from their student logits alone.

    ``student_logits`` are the rows of ``index`` (``[B, C]``). With :math:`B` the nodes,

    * ``reduction="share"``: :math:`\frac{1}{W}\sum_{i \in B}\big(c_i - \langle a_i, \log p^S_i\rangle\big)`,
      the batch's share of the full loss: over batches that partition the nodes, the shares (and
      their gradients) sum to :func:`lfd_loss` exactly;
    * ``reduction="mean"``: the same sum divided by :math:`\sum_{i \in B} W_i` instead of
      :math:`W`: the mean KL over the edges that point into the batch (what one optimiser step
      on a mini-batch takes, at the scale of the full-batch loss).

    Shapes: student_logits ``[B, C]``; index ``[B]``; output: a scalar.

    Example:
        >>> t, e = torch.randn(6, 3), torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]])
        >>> s = torch.randn(6, 3)
        >>> target = lfd_target(t, e)
        >>> batches = (torch.arange(3), torch.arange(3, 6))
        >>> halves = sum(lfd_loss_on(s[i], target, i, reduction='share') for i in batches)
        >>> bool(torch.isclose(halves, lfd_loss(s, t, e)))  # the batches' shares sum to the full loss
        True
    """
    if reduction not in ("mean", "share"):
        raise ValueError(f"reduction must be mean or share, got {reduction!r}")
    agg, const = (target.agg, target.const) if index is None else (target.agg[index], target.const[index])
    log_p_s = F.log_softmax(student_logits / tau, dim=-1)
    if reduction == "share":
        norm = target.total
    else:
        norm = target.in_weight.sum() if index is None else target.in_weight[index].sum()
    return (const.sum() - (agg * log_p_s).sum()) / norm


class _HighFrequencyKL(torch.autograd.Function):
    r"""Sum over edges of :math:`\mathrm{KL}(q^T_e \| q^S_e)`, with the gradient built
    chunk by chunk in the forward pass. With :math:`a_e = |s_i - s_j|/\tau` and
    :math:`q^S_e = \mathrm{softmax}(a_e)`, the edge's gradient is
    :math:`\partial/\partial s_i = (q^S_e - q^T_e)\,\mathrm{sign}(s_i - s_j)/\tau = -\partial/\partial s_j`,
    scattered into an ``[N, C]`` buffer: nothing of size ``[E, C]`` outlives a chunk."""

    @staticmethod
    def forward(
        ctx,
        s: Tensor,
        t: Tensor | None,
        src: Tensor,
        dst: Tensor,
        tau: float,
        chunk_size: int | None,
        weight: Tensor | None,
        log_q: Tensor | None = None,
    ):
        need_grad = ctx.needs_input_grad[0]
        grad = torch.zeros_like(s) if need_grad else None
        total = s.new_zeros(())
        # the cached path (log_q given: g2m.nn's modules) takes the faster kernel; the trainer's path
        # keeps torch's, whose rounding the committed results were computed with
        log_softmax = row_log_softmax if log_q is not None else _log_softmax
        for a, b in _chunks(src.numel(), chunk_size):
            i, j = src[a:b], dst[a:b]
            if log_q is not None:  # the teacher's side, built once (HFDTarget)
                log_q_t = log_q[a:b]
            else:
                assert t is not None
                log_q_t = F.log_softmax((t[i] - t[j]).abs() / tau, dim=-1)
            diff = s[i] - s[j]
            log_q_s = log_softmax(diff.abs() / tau)
            q_t = log_q_t.exp()
            w = None if weight is None else weight[a:b, None]
            kl = q_t * (log_q_t - log_q_s)
            total += (kl if w is None else kl * w).sum()
            if need_grad:
                g = (log_q_s.exp() - q_t) * torch.sign(diff) / tau
                if w is not None:
                    g = g * w
                assert grad is not None
                grad.index_add_(0, i, g).index_add_(0, j, -g)
        ctx.save_for_backward(grad if need_grad else s.new_empty(0))
        return total

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        (grad,) = ctx.saved_tensors
        return grad_out * grad, None, None, None, None, None, None, None


def hfd_loss(
    student_logits: Tensor,
    teacher_logits: Tensor,
    edge_index: Tensor,
    tau: float = 1.0,
    chunk_size: int | None = None,
    edge_weight: Tensor | None = None,
) -> Tensor:
    r"""FF-G2M high-frequency distillation over edges without self-loops:

    .. math:: \mathcal{L}_{HFD} = \frac{1}{|E|} \sum_{(i,j) \in E}
              \mathrm{KL}\big(\mathrm{softmax}(|t_i - t_j|/\tau) \,\|\,
              \mathrm{softmax}(|s_i - s_j|/\tau)\big)

    It is unchanged by adding one vector to the logits of both ends of every
    edge, and symmetric in ``(i, j)``, so on an undirected graph one direction
    per edge gives the same value at half the cost. The gradient is computed in
    closed form chunk by chunk during the forward pass (see
    :class:`_HighFrequencyKL`), so peak memory is one chunk's ``[chunk, C]`` plus
    an ``[N, C]`` gradient buffer. (No double backward.)

    ``edge_weight`` (one per edge, in [0, 1]) scales each edge's term; the sum is still
    divided by :math:`|E|`, so that the loss shrinks with the weight that its edges carry
    (see the ``ffg2m_safe`` objective).

    Example:
        >>> t = torch.tensor([[2.0, 0.0, 1.0], [0.0, 2.0, 1.0]])
        >>> e = torch.tensor([[0, 1], [1, 0]])
        >>> bool(hfd_loss(t + 5.0, t, e).abs() < 1e-6)  # a shift shared by both ends changes nothing
        True
        >>> round(float(hfd_loss(torch.zeros(2, 3), t, e)), 4)
        0.2132
    """
    edge_index, edge_weight = _edges_without_self_loops(edge_index, edge_weight, student_logits.dtype)
    src, dst = edge_index
    num_edges = src.numel()
    if num_edges == 0:
        raise ValueError("hfd_loss needs at least one edge that is not a self-loop")
    total = _HighFrequencyKL.apply(student_logits, teacher_logits.detach(), src, dst, tau, chunk_size, edge_weight)
    return total / num_edges


@dataclass(frozen=True)
class HFDTarget:
    r"""What HFD needs of the teacher and the graph, computed once (:func:`hfd_target`).

    HFD's term of an edge is symmetric in its ends, so each unordered pair :math:`\{i, j\}` of
    the edges (self-loops dropped) is kept once, weighted by its count :math:`m_{ij}` (times its
    ``edge_weight`` where given): the sum over the pairs equals the sum over the edges at half the
    cost on an undirected graph.

    * ``edge_index`` ``[2, P]``: the pairs, :math:`i < j`;
    * ``log_q`` ``[P, C]``: :math:`\log \mathrm{softmax}(|t_i - t_j|/\tau)`;
    * ``weight`` ``[P]``: :math:`\sum` of the pair's edge weights (its count without weights);
    * ``count`` ``[P]``: :math:`m_{ij}`, the pair's edges;
    * ``num_edges``: :math:`|E|`, the full loss's denominator; ``num_nodes``, ``tau``.
    """

    edge_index: Tensor
    log_q: Tensor
    weight: Tensor
    count: Tensor
    num_edges: int
    num_nodes: int
    tau: float


def hfd_target(
    teacher_logits: Tensor,
    edge_index: Tensor,
    tau: float = 1.0,
    edge_weight: Tensor | None = None,
    num_nodes: int | None = None,
) -> HFDTarget:
    r""":class:`HFDTarget` of ``teacher_logits`` over ``edge_index`` (no gradient), built
    :data:`TARGET_CHUNK` pairs at a time; :func:`hfd_loss_on` then needs the student alone.

    Shapes: teacher_logits ``[N, C]``; edge_index ``[2, E]``; edge_weight ``[E]`` or None.

    Example:
        >>> t = torch.randn(3, 4)
        >>> e = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])  # two undirected edges, both directions
        >>> target = hfd_target(t, e)
        >>> target.edge_index.tolist(), target.count.tolist(), target.num_edges  # each pair once, twice counted
        ([[0, 1], [1, 2]], [2.0, 2.0], 4)
    """
    num_nodes = teacher_logits.size(0) if num_nodes is None else num_nodes
    edges, weight = _edges_without_self_loops(edge_index, edge_weight, teacher_logits.dtype)
    if edges.size(1) == 0:
        raise ValueError("HFD needs at least one edge that is not a self-loop")
    with torch.no_grad():
        lo, hi = torch.minimum(edges[0], edges[1]), torch.maximum(edges[0], edges[1])
        pairs, inverse = torch.unique(lo * num_nodes + hi, return_inverse=True)
        ones = torch.ones(inverse.numel(), dtype=teacher_logits.dtype, device=inverse.device)
        count = torch.zeros(pairs.numel(), dtype=ones.dtype, device=ones.device).index_add_(0, inverse, ones)
        summed = count if weight is None else torch.zeros_like(count).index_add_(0, inverse, weight)
        src, dst = pairs // num_nodes, pairs % num_nodes
        t = teacher_logits.detach()
        log_q = torch.cat(
            [row_log_softmax((t[src[a:b]] - t[dst[a:b]]).abs() / tau) for a, b in _chunks(pairs.numel(), TARGET_CHUNK)]
        )
    return HFDTarget(torch.stack([src, dst]), log_q, summed, count, edges.size(1), num_nodes, tau)


def hfd_loss_on(
    student_logits: Tensor, target: HFDTarget, index: Tensor | None = None, chunk_size: int | None = None
) -> Tensor:
    r""":func:`hfd_loss` from the student's logits and an :class:`HFDTarget` built once.

    ``index`` ``None``: ``student_logits`` are every node's, and the value is :func:`hfd_loss`'s
    (up to float rounding). ``index`` ``[B]``: they are the rows of those nodes, and the loss is
    the mean term over the edges with both ends among them (0 when there is none), the
    mini-batch estimate of the full loss.

    Shapes: student_logits ``[N, C]`` or ``[B, C]``; output: a scalar.

    Example:
        >>> s, t = torch.randn(3, 4), torch.randn(3, 4)
        >>> e = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> bool(torch.isclose(hfd_loss_on(s, hfd_target(t, e)), hfd_loss(s, t, e)))
        True
    """
    src, dst = target.edge_index
    log_q, weight = target.log_q, target.weight
    if index is None:
        denominator: Tensor | int = target.num_edges
    else:
        position = torch.full((target.num_nodes,), -1, dtype=torch.long, device=index.device)
        position[index] = torch.arange(index.numel(), device=index.device)
        src, dst = position[src], position[dst]
        inside = (src >= 0) & (dst >= 0)
        if not bool(inside.any()):
            return (student_logits * 0).sum()
        src, dst, log_q, weight = src[inside], dst[inside], log_q[inside], weight[inside]
        denominator = target.count[inside].sum()
    total = _HighFrequencyKL.apply(student_logits, None, src, dst, target.tau, chunk_size, weight, log_q)
    return total / denominator


def teacher_agreement(teacher_logits: Tensor, edge_index: Tensor) -> Tensor:
    r"""Per edge :math:`(j, i)`, the teacher's probability that its two ends share a class:

    .. math:: w_{ji} = \langle p^T_j, p^T_i \rangle = \sum_c p^T_{jc}\, p^T_{ic} \in [0, 1],
              \qquad p^T = \mathrm{softmax}(t).

    Near 1 on an edge inside a class the teacher is sure of, near 0 across classes it
    separates; :math:`1/C` where it knows nothing. Computed with no gradient, :data:`TARGET_CHUNK`
    edges at a time (no ``[E, C]`` product for the whole graph).

    Example:
        >>> t = torch.tensor([[9.0, 0.0], [9.0, 0.0], [0.0, 9.0]])
        >>> teacher_agreement(t, torch.tensor([[0, 0], [1, 2]])).round(decimals=3)  # one class, then two
        tensor([1., 0.])
    """
    with torch.no_grad():
        p_t = F.softmax(teacher_logits.detach(), dim=-1)
        src, dst = edge_index
        return torch.cat(
            [(p_t[src[a:b]] * p_t[dst[a:b]]).sum(-1) for a, b in _chunks(src.numel(), TARGET_CHUNK)]
            or [p_t.new_empty(0)]
        )


def similarity_loss(student_repr: Tensor, teacher_repr: Tensor, kernel: str = "dot") -> Tensor:
    r"""NOSMOG's representation-similarity distillation (Tian et al., ICLR 2023; ``feat_distill``
    in meettyj/NOSMOG ``train_and_eval.py``): over a node set :math:`B` with student and teacher
    representations :math:`Z \in \mathbb{R}^{B \times d_s}`, :math:`H \in \mathbb{R}^{B \times d_t}`,

    .. math:: \mathcal{L}_{RSD} = \frac{1}{B^2} \lVert H H^\top - Z Z^\top \rVert_F^2
              = \frac{1}{B^2}\big(\lVert H^\top H\rVert_F^2 - 2\lVert H^\top Z\rVert_F^2
              + \lVert Z^\top Z\rVert_F^2\big).

    The right-hand form is what is computed (in float64): three :math:`d \times d` Gram
    matrices instead of two :math:`B \times B` similarity matrices, :math:`O(B d^2)` time and
    no memory in :math:`B^2`, so every node can be in the set. The teacher is a constant.

    ``kernel="dot"`` is NOSMOG's (raw inner products); ``"cosine"`` L2-normalises every row
    first, so that the loss does not grow with the teacher's scale (a g2m option: with a
    wide teacher, hidden norms near 10 give dot similarities near 100 and a loss that
    drowns the others).

    Example:
        >>> h = torch.randn(5, 4)
        >>> bool(similarity_loss(h.clone(), h).abs() < 1e-6)  # the same similarities
        True
        >>> q, _ = torch.linalg.qr(torch.randn(4, 4))
        >>> bool(similarity_loss(h @ q, h) < 1e-5)  # a rotation keeps every inner product
        True
    """
    if kernel not in SIMILARITY_KERNELS:
        raise ValueError(f"similarity kernel must be one of {SIMILARITY_KERNELS}, got {kernel!r}")
    if student_repr.dim() != 2 or teacher_repr.dim() != 2 or student_repr.size(0) != teacher_repr.size(0):
        raise ValueError(
            f"need [B, d] representations of the same nodes, got {tuple(student_repr.shape)} "
            f"and {tuple(teacher_repr.shape)}"
        )
    z = student_repr.double()
    h = teacher_repr.detach().double()
    if kernel == "cosine":
        z, h = F.normalize(z, dim=1), F.normalize(h, dim=1)
    b = z.size(0)
    loss = (h.t() @ h).square().sum() - 2 * (h.t() @ z).square().sum() + (z.t() @ z).square().sum()
    return (loss / (b * b)).to(student_repr.dtype)
