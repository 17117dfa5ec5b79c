r"""KRD: where the teacher's knowledge is reliable (Wu et al., ICML 2023, "Quantifying the
Knowledge in GNNs for Reliable Distillation into MLPs"; ``Com_KD_Prob`` in LirongWu/KRD
``src/models.py`` and ``train_student`` in ``src/train_and_eval.py``).

1. **Reliability of each node's knowledge**: how much the entropy of the teacher's prediction
   moves when Gaussian noise is added to every input feature,

   .. math:: \rho_i = \frac{|H(p^T_i(x + \epsilon)) - H(p^T_i(x))|}{\max_j |\dots|},
             \qquad \epsilon \sim \mathcal N(0, \sigma^2 I),\ \sigma = 1,

   computed once, right after the teacher is trained (small :math:`\rho`: reliable).
2. **Sampling**: each epoch from the 50th, a node :math:`i` learns its neighbour
   :math:`j`'s teacher distribution with probability :math:`1 - \rho_j^{\,a}` (itself always),
   i.e. LFD on a random subgraph of reliable edges.
3. **The power** :math:`a` follows the student: the nodes are binned by :math:`\rho` (50
   bins); in each bin, the share of nodes whose student and teacher agree on the class gives a
   curve that is min-max scaled to [0, 1] and fitted by :math:`1 - x^{a'}` (least squares at
   the bins' left edges + 0.05, as the official code); :math:`a \leftarrow m\,a + (1 - m)\,a'`,
   :math:`m = 0.99`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from g2m.device import cpu_generator
from g2m.losses.terms import LFDTerm


def prediction_entropy(logits: Tensor) -> Tensor:
    r""":math:`H(\mathrm{softmax}(z)) = -\sum_c p_c \log p_c` per row."""
    log_p = F.log_softmax(logits, dim=-1)
    return -(log_p.exp() * log_p).sum(-1)


@torch.no_grad()
def entropy_shift(
    forward: Callable[[Tensor], Tensor], x: Tensor, clean_logits: Tensor, noise: float = 1.0, seed: int = 0
) -> Tensor:
    """KRD's :math:`\\rho`: ``forward`` run on ``x`` plus Gaussian noise (std ``noise``), compared
    with ``clean_logits`` (the same model on ``x``), scaled by its maximum into [0, 1]."""
    gen = cpu_generator(seed)
    x = x.to_dense() if x.is_sparse or x.layout != torch.strided else x
    noise_draw = torch.randn(tuple(x.shape), generator=gen, dtype=x.dtype, device=gen.device).to(x.device)
    noisy = forward(x + noise * noise_draw)
    shift = (prediction_entropy(noisy) - prediction_entropy(clean_logits)).abs()
    top = shift.max()
    return shift / top if top > 0 else shift


def fit_power(shift: Tensor, agree: Tensor, bins: int = 50, start: float = 1.0) -> float:
    """KRD's power update target :math:`a'`: the least-squares fit of :math:`1 - x^{a'}` to the
    per-bin agreement rate of the nodes binned by ``shift``; ``start`` when the curve is flat
    (nothing to fit)."""
    from scipy.optimize import curve_fit

    edges = torch.linspace(0, 1, bins + 1, dtype=torch.float64, device="cpu")
    shift, agree = shift.double().cpu(), agree.cpu()  # a histogram and a scipy fit: host-side
    hist_true = torch.histogram(shift[agree], bins=edges).hist
    hist_false = torch.histogram(shift[~agree], bins=edges).hist
    prob = hist_true / (hist_true + hist_false + 1e-6)
    span = prob.max() - prob.min()
    if span <= 0:
        return start
    prob = (prob - prob.min()) / span
    centre = (edges[:-1] + 0.05).numpy()
    (power,), _ = curve_fit(lambda x, a: 1 - x**a, centre, prob.numpy(), p0=[start])
    return float(power)


class ReliableEdgeSampler:
    """KRD's sampler state: the power :math:`a` and one edge mask per epoch."""

    def __init__(self, shift: Tensor, power: float = 1.0, momentum: float = 0.99, bins: int = 50) -> None:
        if torch.isnan(shift).any() or (shift < 0).any() or (shift > 1).any():
            raise ValueError("entropy shift must be in [0, 1] for every node the student sees")
        self.shift, self.power, self.momentum, self.bins = shift, power, momentum, bins

    def state_dict(self) -> dict[str, float]:
        """The power :math:`a`, all the sampler learns (for checkpoints)."""
        return {"power": self.power}

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.power = float(state["power"])

    def update(self, teacher_logits: Tensor, student_logits: Tensor) -> None:
        agree = teacher_logits.argmax(-1) == student_logits.argmax(-1)
        target = fit_power(self.shift, agree, self.bins, self.power)
        self.power = self.momentum * self.power + (1 - self.momentum) * target

    def sample(self, edge_index: Tensor, gen: torch.Generator) -> Tensor:
        """A 0/1 weight per edge ``(j, i)`` of ``edge_index``: kept with probability
        :math:`1 - \\rho_j^{\\,a}`."""
        keep = 1.0 - self.shift[edge_index[0]] ** self.power
        # drawn on the generator's device (the CPU), then moved: the same mask on every device
        return torch.bernoulli(keep.clamp(0, 1).to(gen.device), generator=gen).to(keep.device)


@dataclass
class ReliableEdges:
    """KRD (Wu et al., ICML 2023): from epoch ``start`` on, each epoch LFD's edges are resampled by the
    teacher's reliability as the student sees it (:class:`ReliableEdgeSampler`);
    the sample becomes ``lfd.weight``. Checkpointed with the model (the epoch count and the weights)."""

    sampler: ReliableEdgeSampler
    lfd: LFDTerm
    start: int
    gen: torch.Generator
    epoch: int = 0

    def __post_init__(self) -> None:
        if self.lfd.edge_index is None:
            raise ValueError("KRD samples the edges of a full-batch LFD term (edge_index)")

    def new_epoch(self, student_logits: Callable[[], Tensor]) -> None:
        """Count an epoch; from ``start`` on, refit the power on ``student_logits()`` and resample."""
        self.epoch += 1
        if self.epoch >= self.start:
            assert self.lfd.edge_index is not None  # checked at construction
            self.sampler.update(self.lfd.teacher, student_logits())
            self.lfd.weight = self.sampler.sample(self.lfd.edge_index, self.gen)

    def state_dict(self) -> dict[str, object]:
        weight = self.lfd.weight
        return {
            "epoch": self.epoch,
            "lfd_weight": None if weight is None else weight.cpu(),
            **self.sampler.state_dict(),
        }

    def load_state_dict(self, state: dict[str, object]) -> None:
        self.epoch = int(state["epoch"])  # type: ignore[call-overload]
        weight = state["lfd_weight"]
        self.lfd.weight = None if weight is None else weight.to(self.lfd.teacher.device)  # type: ignore[attr-defined]
        self.sampler.load_state_dict({"power": float(state["power"])})  # type: ignore[arg-type]
