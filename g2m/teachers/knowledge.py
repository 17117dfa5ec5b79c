"""What a node teacher gives its students, as one object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import Tensor

from g2m.losses.dirichlet import TeacherLayers
from g2m.losses.tokens import TeacherTokens


@dataclass(frozen=True)
class TeacherKnowledge:
    """A node teacher's outputs that students learn from: ``[N, C]`` logits, the ``[N, H]``
    last hidden layer, and KRD's ``[N]`` entropy shift (None where the cache entry predates it
    or the teacher was trained in mini-batches)."""

    logits: Tensor
    hidden: Tensor | None = None
    entropy_shift: Tensor | None = None
    #: seconds its training took, in whichever process trained it (None: not recorded)
    train_seconds: float | None = None
    #: a vqgcn teacher's codebook and quantiser inputs (VQGraph's codes); None for other teachers
    tokens: TeacherTokens | None = None
    #: a GraphSAGE (gcn aggregator) teacher's feature transforms and DE ratios (TINED); None for others
    layers: TeacherLayers | None = None

    @classmethod
    def from_tensors(cls, tensors: dict[str, Tensor], meta: dict[str, Any] | None = None) -> TeacherKnowledge:
        tokens = None
        if "codebook" in tensors:
            tokens = TeacherTokens(tensors["code_input"], tensors["codebook"])
        return cls(
            tensors["logits"],
            tensors.get("hidden"),
            tensors.get("entropy_shift"),
            _train_seconds(meta or {}),
            tokens,
            TeacherLayers.from_tensors(tensors),
        )


def _train_seconds(meta: dict[str, Any]) -> float | None:
    """A cached teacher's training seconds: recorded, or epochs times seconds per epoch (older entries)."""
    if "train_seconds" in meta:
        return float(meta["train_seconds"])
    if "epochs_run" in meta and "seconds_per_epoch" in meta:
        return float(meta["epochs_run"]) * float(meta["seconds_per_epoch"])
    return None


def as_knowledge(teacher: TeacherKnowledge | Tensor | None) -> TeacherKnowledge | None:
    """``teacher`` as :class:`TeacherKnowledge`: a bare ``[N, C]`` tensor is its logits alone."""
    if teacher is None or isinstance(teacher, TeacherKnowledge):
        return teacher
    return TeacherKnowledge(teacher)
