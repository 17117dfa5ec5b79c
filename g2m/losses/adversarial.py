r"""Adversarial feature augmentation (NOSMOG, Tian et al., ICLR 2023; ``get_PGD_inputs`` in
meettyj/NOSMOG ``train_and_eval.py``).

Projected gradient ascent finds a perturbation :math:`\delta` of the input features inside
the :math:`\ell_\infty` ball of radius :math:`\epsilon` that raises the student's loss:

.. math:: \delta_0 \sim U[-\epsilon, \epsilon]^{N \times F}, \qquad
          \delta_{k+1} = \mathrm{clip}_{[-\epsilon, \epsilon]}\big(\delta_k
          + \alpha\, \mathrm{sign}(\nabla_\delta \mathcal{L}(x + \delta_k))\big),
          \qquad \alpha = \epsilon / 4,

for ``steps`` steps (NOSMOG: 5); the student then also trains on :math:`x + \delta`, which
makes it robust to small changes of the features (NOSMOG weights that loss 0.1).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from g2m.device import uniform


def pgd_perturbation(
    loss_of: Callable[[Tensor], Tensor], x: Tensor, eps: float, steps: int = 5, gen: torch.Generator | None = None
) -> Tensor:
    """``delta`` with ``|delta| <= eps`` element-wise, ascended ``steps`` times on ``loss_of(x + delta)``.

    Only ``delta`` gets gradients here: the parameters inside ``loss_of`` are left untouched."""
    if eps <= 0:
        raise ValueError(f"eps must be positive, got {eps}")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    if x.is_sparse or x.layout != torch.strided:
        raise ValueError("pgd_perturbation needs dense features")
    alpha = eps / 4
    delta = (uniform(tuple(x.shape), gen, x) * 2 - 1).to(x.dtype) * eps
    for _ in range(steps):
        delta.requires_grad_(True)
        (grad,) = torch.autograd.grad(loss_of(x + delta), delta)
        delta = (delta.detach() + alpha * grad.sign()).clamp_(-eps, eps)
    return delta
