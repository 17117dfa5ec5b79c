"""Full-batch training with early stopping on a validation score (higher is better)."""

from __future__ import annotations

import copy
import math
import sys
import time
from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from g2m.distributed import is_main
from g2m.training.checkpoint import Checkpoint, Stateful, rng_state, set_rng_state

StepFn = Callable[..., tuple[Tensor, dict[str, float]]]

#: seconds between two progress lines of one long training when stderr is not a terminal
HEARTBEAT_SECONDS = 60.0


class _Progress:
    """A tqdm bar on a terminal; in a log (stderr piped or redirected), one line when the
    training ends and a heartbeat line every :data:`HEARTBEAT_SECONDS` on long ones, within an
    epoch too (its batches) when one epoch outlasts it (a link epoch on a large graph)."""

    def __init__(self, desc: str, epochs: int, enabled: bool) -> None:
        self.desc, self.epochs = desc, epochs
        self.lines = enabled and not sys.stderr.isatty()
        self.bar = tqdm(total=epochs, desc=desc, disable=not enabled or self.lines, leave=False, dynamic_ncols=True)
        self.start = self.last = time.perf_counter()

    def update(self, epoch: int, loss: float, val: float, best: float) -> None:
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{loss:.4f}", val=f"{val:.4f}", best=f"{best:.4f}", refresh=False)
        now = time.perf_counter()
        if self.lines and now - self.last >= HEARTBEAT_SECONDS:
            self.last = now
            self._line(f"epoch {epoch + 1}/{self.epochs}, val {val:.4f}, best {best:.4f}")

    def batch(self, epoch: int, done: int, total: int | None) -> None:
        now = time.perf_counter()
        if self.lines and now - self.last >= HEARTBEAT_SECONDS:
            self.last = now
            self._line(f"epoch {epoch + 1}/{self.epochs}, batch {done}" + ("" if total is None else f"/{total}"))

    def close(self, result: FitResult) -> None:
        self.bar.close()
        if self.lines:
            self._line(
                f"done: {result.epochs_run} epochs, best val {result.best_val:.4f} at epoch "
                f"{result.best_epoch}, {result.seconds_per_epoch:.3f} s/epoch"
            )

    def _line(self, text: str) -> None:
        print(f"{self.desc}: {text} ({time.perf_counter() - self.start:.0f} s)", file=sys.stderr, flush=True)


@dataclass
class FitResult:
    best_epoch: int
    best_val: float
    epochs_run: int
    seconds_per_epoch: float
    history: list[dict[str, float]] = field(default_factory=list)
    #: training seconds over every process that contributed (a resumed run adds its checkpoint's)
    seconds: float = 0.0
    #: the epoch a checkpoint resumed the training from (None: from the start)
    resumed_from: int | None = None


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
    tie_break: str = "earlier",
    on_epoch: Callable[[int, float], None] | None = None,
    checkpoint: Checkpoint | None = None,
    stateful: dict[str, Stateful] | None = None,
    param_groups: list[dict[str, Any]] | None = None,
    min_epochs: int = 0,
) -> FitResult:
    """Adam on ``train_step``'s loss; keeps (and restores) the weights of the best
    validation epoch and stops after ``patience`` epochs without improvement.

    Full batch: one ``train_step()`` per epoch. Mini-batch: ``batches()`` yields
    the epoch's batches and each gets an optimiser step, ``train_step(batch)``.
    ``grad_clip`` caps the global gradient norm before each step. ``tie_break="later"``
    counts an epoch that equals the best validation score as the new best (and resets
    patience), as the official GLNN / FF-G2M / LLP loops (``>=``) do; ``"earlier"``
    keeps the first. ``on_epoch(epoch, val)`` runs after each validation (``g2m tune``
    reports to its pruner there; an exception it raises stops training).

    ``checkpoint`` (:mod:`g2m.training.checkpoint`): save the training state at epoch ends, and
    start from a saved one; ``stateful`` names the trainer's own objects whose state goes with
    it (its sampling generator, ...). A resumed training equals an uninterrupted one; the
    checkpoint is removed once training ends.

    ``param_groups``: Adam's parameter groups (a group's own ``lr`` overrides ``lr``) in place of one
    group of ``model.parameters()``; they must hold every trained parameter. ``min_epochs``: early
    stopping waits until this many epochs have run, and stops at the first later epoch that is
    ``patience`` epochs past the best (the official TINED loop's ``count == patience and epoch >
    max_epoch / 2``; with 0, plain patience)."""
    if epochs < 1 or patience < 1:
        raise ValueError("epochs and patience must be positive")
    if tie_break not in ("later", "earlier"):
        raise ValueError(f"tie_break must be later or earlier, got {tie_break!r}")
    if grad_clip is not None and grad_clip <= 0:
        raise ValueError(f"grad_clip must be positive, got {grad_clip}")
    if min_epochs < 0:
        raise ValueError(f"min_epochs must be at least 0, got {min_epochs}")
    if param_groups is not None:
        grouped = [id(p) for group in param_groups for p in group["params"]]
        if sorted(grouped) != sorted(id(p) for p in model.parameters()):
            raise ValueError("param_groups must hold each of the model's parameters exactly once")
    opt = torch.optim.Adam(
        model.parameters() if param_groups is None else param_groups, lr=lr, weight_decay=weight_decay
    )
    best_val, best_epoch, best_state = -math.inf, -1, None
    history: list[dict[str, float]] = []
    stateful = stateful or {}
    device = next((p.device for p in model.parameters()), None)
    first, before, resumed = 0, 0.0, None  # first epoch to run; seconds spent by earlier processes
    saved = checkpoint.load() if checkpoint is not None else None
    if saved is not None:
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        best_val, best_epoch, best_state = saved["best_val"], saved["best_epoch"], saved["best_state"]
        history, before = saved["history"], saved["seconds"]
        for name, obj in stateful.items():
            obj.load_state_dict(saved["stateful"][name])
        set_rng_state(saved["rng"], device)
        first = resumed = saved["epoch"] + 1
        if progress and checkpoint is not None:
            print(
                f"{desc}: resuming from its checkpoint at epoch {first} ({checkpoint.path})",
                file=sys.stderr,
                flush=True,
            )
    bar = _Progress(desc, epochs, progress)
    start = time.perf_counter()
    epoch = first - 1
    for epoch in range(first, epochs):
        model.train()
        epoch_batches = batches() if batches is not None else [None]
        total = len(epoch_batches) if isinstance(epoch_batches, Sized) else None
        for done, batch in enumerate(epoch_batches, 1):
            if done > 1:
                bar.batch(epoch, done - 1, total)
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
        if val > best_val or (tie_break == "later" and val == best_val):
            best_val, best_epoch = val, epoch
            best_state = copy.deepcopy(model.state_dict())
        bar.update(epoch, float(loss.detach()), val, best_val)
        if on_epoch is not None:
            on_epoch(epoch, val)
        if epoch - best_epoch == patience and epoch >= min_epochs:
            break
        if checkpoint is not None and checkpoint.due(epoch) and is_main():  # data-parallel: rank 0 writes
            checkpoint.save(
                {
                    "epoch": epoch,
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "best_val": best_val,
                    "best_epoch": best_epoch,
                    "best_state": best_state,
                    "history": history,
                    "seconds": before + time.perf_counter() - start,
                    "rng": rng_state(device),
                    "stateful": {name: obj.state_dict() for name, obj in stateful.items()},
                }
            )
    elapsed = time.perf_counter() - start
    assert best_state is not None
    model.load_state_dict(best_state)
    model.eval()
    runs = epoch + 1
    result = FitResult(
        best_epoch, best_val, runs, (before + elapsed) / max(runs, 1), history, before + elapsed, resumed
    )
    bar.close(result)
    if checkpoint is not None and is_main():
        checkpoint.remove()
    return result
