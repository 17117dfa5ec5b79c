"""Full-batch training with early stopping on a validation score (higher is better)."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

StepFn = Callable[..., tuple[Tensor, dict[str, float]]]


@dataclass
class FitResult:
    best_epoch: int
    best_val: float
    epochs_run: int
    seconds_per_epoch: float
    history: list[dict[str, float]] = field(default_factory=list)


def fit(
    model: nn.Module,
    train_step: StepFn,
    validate: Callable[[], float],
    *,
    lr: float,
    weight_decay: float,
    epochs: int,
    patience: int,
    desc: str = "train",
    progress: bool = True,
    batches: Callable[[], Iterable[Any]] | None = None,
    grad_clip: float | None = None,
) -> FitResult:
    """Adam on ``train_step``'s loss; keeps (and restores) the weights of the best
    validation epoch and stops after ``patience`` epochs without improvement.

    Full batch: one ``train_step()`` per epoch. Mini-batch: ``batches()`` yields
    the epoch's batches and each gets an optimiser step, ``train_step(batch)``.
    ``grad_clip`` caps the global gradient norm before each step."""
    if epochs < 1 or patience < 1:
        raise ValueError("epochs and patience must be positive")
    if grad_clip is not None and grad_clip <= 0:
        raise ValueError(f"grad_clip must be positive, got {grad_clip}")
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    best_val, best_epoch, best_state = -math.inf, -1, None
    history: list[dict[str, float]] = []
    bar = tqdm(range(epochs), desc=desc, disable=not progress, leave=False, dynamic_ncols=True)
    start = time.perf_counter()
    epoch = -1
    for epoch in bar:
        model.train()
        for batch in (batches() if batches is not None else [None]):
            opt.zero_grad(set_to_none=True)
            loss, parts = train_step() if batches is None else train_step(batch)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"{desc}: loss became {float(loss)} at epoch {epoch}")
            loss.backward()
            if grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            opt.step()
        model.eval()
        with torch.no_grad():
            val = float(validate())
        history.append({"epoch": epoch, "loss": float(loss.detach()), "val": val, **parts})
        if val > best_val:
            best_val, best_epoch = val, epoch
            best_state = copy.deepcopy(model.state_dict())
        bar.set_postfix(loss=f"{float(loss.detach()):.4f}", val=f"{val:.4f}", best=f"{best_val:.4f}")
        if epoch - best_epoch >= patience:
            break
    elapsed = time.perf_counter() - start
    assert best_state is not None
    model.load_state_dict(best_state)
    model.eval()
    runs = epoch + 1
    return FitResult(best_epoch, best_val, runs, elapsed / max(runs, 1), history)
