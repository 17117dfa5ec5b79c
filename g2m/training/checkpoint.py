"""Mid-training checkpoints, so that an interrupted student resumes where it stopped.

:func:`g2m.training.loop.fit` saves, at the end of an epoch once ``every_seconds`` have passed
since the last save (or every ``every_epochs`` epochs), everything the rest of the run depends
on: the model's and the optimiser's state, the best epoch so far and its weights, the history,
torch's CPU (and CUDA) random state, and the state of every object the trainer registers (its
sampling generator, KRD's power, ...). Resuming from it gives the run an uninterrupted process
would have given, to the last bit on the same machine and thread count (tested to 1e-6).

Files are written atomically (a temporary sibling renamed into place) and read with
``torch.load(..., weights_only=True)``; a checkpoint whose ``tag`` (the configuration's hash)
differs from the run's is ignored and replaced, never loaded.
"""

from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch

from g2m.files import atomic_write_bytes


class Stateful(Protocol):
    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class GeneratorState:
    """A :class:`torch.Generator` as a :class:`Stateful`."""

    def __init__(self, gen: torch.Generator) -> None:
        self.gen = gen

    def state_dict(self) -> dict[str, Any]:
        return {"state": self.gen.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.gen.set_state(state["state"])


@dataclass
class Checkpoint:
    """Where and how often :func:`~g2m.training.loop.fit` saves its state.

    Args:
        path: the checkpoint file.
        tag: a hash of everything that determines the training (config, split, teacher); a
            file with another tag is ignored.
        every_seconds: save at the first epoch end this many seconds after the last save.
        every_epochs: or every this many epochs (None: by time only).
    """

    path: Path
    tag: str
    every_seconds: float = 60.0
    every_epochs: int | None = None
    _last: float = field(default_factory=time.perf_counter, repr=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if self.every_seconds < 0:
            raise ValueError(f"every_seconds must be non-negative, got {self.every_seconds}")
        if self.every_epochs is not None and self.every_epochs < 1:
            raise ValueError(f"every_epochs must be at least 1, got {self.every_epochs}")

    def child(self, name: str) -> Checkpoint:
        """The checkpoint of a sub-training (a guard's candidate), beside this one."""
        return Checkpoint(
            self.path.with_name(f"{self.path.stem}-{name}{self.path.suffix}"),
            self.tag,
            self.every_seconds,
            self.every_epochs,
        )

    def due(self, epoch: int) -> bool:
        if self.every_epochs is not None and (epoch + 1) % self.every_epochs == 0:
            return True
        return time.perf_counter() - self._last >= self.every_seconds

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None when there is none (or it belongs to another configuration)."""
        if not self.path.is_file():
            return None
        try:
            state = torch.load(self.path, weights_only=True, map_location="cpu")
        except Exception:  # noqa: BLE001 (a truncated or foreign file: start over, never crash on it)
            return None
        return state if isinstance(state, dict) and state.get("tag") == self.tag else None

    def save(self, state: dict[str, Any]) -> None:
        buf = io.BytesIO()
        torch.save({**state, "tag": self.tag}, buf)
        atomic_write_bytes(self.path, buf.getvalue())
        self._last = time.perf_counter()

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def rng_state(device: torch.device | None) -> dict[str, Any]:
    """torch's global random state: the CPU's, and the device's on CUDA."""
    state: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if device is not None and device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict[str, Any], device: torch.device | None) -> None:
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and device is not None and device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda"], device)


def checkpoint_dir(out: str | os.PathLike) -> Path:
    """Where ``g2m run --out OUT`` keeps its students' checkpoints."""
    return Path(out) / "checkpoints"


def student_checkpoint(
    folder: str | os.PathLike | None, method: str, seed: int, tag: str, every_seconds: float
) -> Checkpoint | None:
    """The checkpoint of student ``method`` at ``seed`` in ``folder`` (None: no checkpoints)."""
    return None if folder is None else Checkpoint(Path(folder) / f"{method}-seed{seed}.pt", tag, every_seconds)
