r"""VQGraph's losses (Yang et al., ICLR 2024; YangLing0818/VQGraph): pure functions of tensors and
an edge index.

Notation: :math:`Z \in \mathbb{R}^{N \times D}` the tokenizer's decoded codes (one row per node),
:math:`S = Z Z^\top`, :math:`A` the graph's adjacency **with self-loops** (the official loaders add
them), :math:`E = \mathbf{e} \in \mathbb{R}^{K \times D}` the codebook and :math:`c_i \in
\mathbb{R}^K` the teacher's similarities of node :math:`i` to every code.

Neither loss builds an ``[N, N]`` (or ``[E, K]``) tensor that it does not need:
:func:`edge_reconstruction_loss` takes the all-pairs sums in closed form and finds the minimum
pair in row blocks, without keeping them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

#: rows of ``Z`` per block of :func:`edge_reconstruction_loss`'s search for the smallest inner product
MIN_SEARCH_ROWS = 1024


def edge_reconstruction_loss(z: Tensor, edge_index: Tensor, block_rows: int = MIN_SEARCH_ROWS) -> Tensor:
    r"""VQGraph's adjacency reconstruction: the root mean squared error between :math:`A` and the
    min-max normalised inner products of the decoded codes,

    .. math:: \mathcal{L}_{edge} = \sqrt{\frac{1}{N^2}\sum_{i,j}\big(A_{ij} - \hat S_{ij}\big)^2},
              \qquad \hat S = \frac{S - \min S}{\max S - \min S},

    with the minimum and maximum over all :math:`N^2` pairs, as the official dense code. Here
    without the dense matrices: :math:`\sum_{ij} S_{ij}^2 = \lVert Z^\top Z\rVert_F^2`,
    :math:`\sum_{ij} S_{ij} = \lVert \sum_i z_i \rVert^2`, :math:`A` binary, so

    .. math:: N^2 \mathcal{L}_{edge}^2 = \frac{\sum_{ij}(S_{ij}-m)^2}{(M-m)^2}
              - 2 \sum_{(i,j) \in A} \frac{S_{ij}-m}{M-m} + |A|,

    :math:`M = \max_i \lVert z_i \rVert^2` (Cauchy-Schwarz: the largest entry is on the diagonal)
    and :math:`m` the smallest inner product, located in row blocks without gradient and then
    recomputed with it (the gradient of ``torch.min``: through the one minimal pair).

    Args:
        z: the decoded codes (the official ``decoder_1(quantized)``).
        edge_index: the nonzeros of :math:`A`, self-loops included, each once.
        block_rows: rows per block of the minimum search (memory ``block_rows x N``).

    Shapes:
        ``z`` ``[N, D]``, ``edge_index`` ``[2, |A|]``; returns a scalar.
    """
    n = z.size(0)
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"edge_index must be [2, E], got shape {tuple(edge_index.shape)}")
    gram = z @ z.t() if n <= z.size(1) else z.t() @ z  # the smaller of the two Gram matrices
    sum_sq = gram.pow(2).sum()  # sum of S_ij^2
    total = z.sum(0).pow(2).sum()  # sum of S_ij
    top = z.pow(2).sum(1).max()
    with torch.no_grad():
        best, where = None, (0, 0)
        for start in range(0, n, max(block_rows, 1)):
            block = z[start : start + block_rows] @ z.t()
            value, flat = block.view(-1).min(0)
            if best is None or value < best:
                best, where = value, (start + int(flat) // n, int(flat) % n)
    low = z[where[0]] @ z[where[1]]
    span = (top - low).clamp_min(torch.finfo(z.dtype).tiny)
    centred_sq = sum_sq - 2 * low * total + n * n * low * low
    on_edges = ((z[edge_index[0]] * z[edge_index[1]]).sum(1) - low).sum() / span
    mse = (centred_sq / span**2 - 2 * on_edges + edge_index.size(1)) / (n * n)
    return mse.clamp_min(0).sqrt()


def code_similarities(h: Tensor, codebook: Tensor) -> Tensor:
    r"""The tokenizer's soft code assignment before the temperature: the cosine similarity of each
    row of ``h`` to each code, :math:`c_{ik} = \hat h_i^\top \hat e_k` (both sides unit-normalised).

    Shapes:
        ``h`` ``[N, D]``, ``codebook`` ``[K, D]``; returns ``[N, K]``.
    """
    return F.normalize(h, dim=-1) @ F.normalize(codebook, dim=-1).t()


def token_kd_loss(student_z: Tensor, codebook: Tensor, teacher_similarity: Tensor, tau: float = 4.0) -> Tensor:
    r"""VQGraph's soft code assignment distillation: the student's distribution over the codes,
    from its negative Euclidean distances, matched to the teacher's, from its cosine similarities,

    .. math:: \mathcal{L}_{token} = \frac{\tau^2}{B}\sum_i \mathrm{KL}\Big(\mathrm{softmax}(c_i/\tau)
              \,\Big\|\, \mathrm{softmax}\big(-\lVert z^S_i - e_k\rVert_2/\tau\big)_k\Big).

    The official code passes the teacher's probabilities to ``KLDivLoss(log_target=True)``, which
    reads them as log-probabilities (it computes :math:`\sum_k e^{p_k}(p_k - \log q_k)`); at its
    default weight (``1e-8``) neither form moves the student. This is the paper's KL.

    Args:
        student_z: the student's projection into the codebook's space.
        codebook: the teacher's codes (constants).
        teacher_similarity: the teacher's :func:`code_similarities` of the same nodes (constants).
        tau: the temperature (official ``--temperature``, 4).

    Shapes:
        ``student_z`` ``[B, D]``, ``codebook`` ``[K, D]``, ``teacher_similarity`` ``[B, K]``; a scalar.
    """
    if teacher_similarity.shape != (student_z.size(0), codebook.size(0)):
        raise ValueError(
            f"teacher_similarity must be [B, K] = [{student_z.size(0)}, {codebook.size(0)}], "
            f"got {tuple(teacher_similarity.shape)}"
        )
    log_q = (-torch.cdist(student_z, codebook.detach(), p=2) / tau).log_softmax(-1)
    log_p = (teacher_similarity.detach() / tau).log_softmax(-1)
    return F.kl_div(log_q, log_p, reduction="batchmean", log_target=True) * tau * tau


@dataclass(frozen=True)
class TeacherTokens:
    """What a student learns VQGraph's codes from: the tokenizer's ``codebook`` and every node's
    ``code_input`` (:math:`h`, the rows it quantises), from which :meth:`similarities` gives the
    teacher's soft assignment logits of any rows, without an ``[N, K]`` table.

    Shapes: ``code_input`` ``[N, F]``, ``codebook`` ``[K, F]``."""

    code_input: Tensor
    codebook: Tensor

    def __post_init__(self) -> None:
        if self.code_input.dim() != 2 or self.codebook.dim() != 2 or self.code_input.size(1) != self.codebook.size(1):
            raise ValueError(
                f"code_input [N, F] and codebook [K, F] must share F, got {tuple(self.code_input.shape)} and "
                f"{tuple(self.codebook.shape)}"
            )

    def similarities(self, rows: Tensor | None = None) -> Tensor:
        """The teacher's cosine similarities of ``rows`` (every node: None) to every code, ``[B, K]``."""
        h = self.code_input if rows is None else self.code_input[rows]
        return code_similarities(h, self.codebook)
