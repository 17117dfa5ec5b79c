"""Where g2m computes: device choice, thread count, and what a result records of both.

Every function that trains, evaluates or times takes ``device`` (``"cpu"``, ``"cuda"``,
``"cuda:N"``, ``"auto"`` or a :class:`torch.device`; ``None`` means ``"auto"``). Data is
loaded, split and sampled on the CPU; the tensors a step needs are moved to the device
(pinned and ``non_blocking`` for mini-batches, as PyG's loaders do), and whatever g2m writes
to disk (teacher caches, students) is moved back to the CPU first.

Random draws that decide *which* nodes, edges or walks a step uses come from CPU
generators, so that a seed picks the same batches on every device; draws inside a model
(dropout) use the device's own generator, seeded by :func:`torch.manual_seed`.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

import torch
from torch import Tensor

from g2m.errors import G2MError
from g2m.methods import DEVICE_CHOICES


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """The :class:`torch.device` that ``device`` names, checked: ``auto`` (or ``None``) is
    ``cuda`` when torch sees a GPU and ``cpu`` otherwise; ``cuda`` without a GPU, an index
    past the last GPU, or any other name is a :class:`~g2m.errors.G2MError` that says what
    is available."""
    if isinstance(device, torch.device):
        name = str(device)
    else:
        name = "auto" if device is None else str(device).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        index = name.partition(":")[2]
        if index and not index.isdigit():
            raise G2MError(f"device {name!r}: the GPU index must be a number, e.g. cuda:0")
        if not torch.cuda.is_available():
            raise G2MError(
                f"device {name!r} asked for, but torch sees no CUDA GPU (torch {torch.__version__}, "
                f"CUDA build: {torch.version.cuda or 'no'}); use --device cpu or auto"
            )
        count = torch.cuda.device_count()
        if index and int(index) >= count:
            raise G2MError(f"device {name!r}: torch sees {count} GPU(s), cuda:0 to cuda:{count - 1}")
        return torch.device(name)
    raise G2MError(f"unknown device {name!r}; choose one of {', '.join(DEVICE_CHOICES)} or cuda:N")


def set_threads(threads: int | None) -> int:
    """Use ``threads`` CPU threads for torch's intra-op parallelism (``None``: leave torch's
    choice); returns the count in use. One thread per process is the fastest way to run
    two jobs side by side on a small machine."""
    if threads is not None:
        if threads < 1:
            raise G2MError(f"threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)
    return torch.get_num_threads()


#: glibc's ``M_MMAP_THRESHOLD`` option of ``mallopt``
_M_MMAP_THRESHOLD = -3


def keep_freed_memory(threshold_bytes: int = 1 << 26) -> bool:
    """Ask the C library's ``malloc`` to serve every CPU allocation under ``threshold_bytes``
    from its heap, whose freed blocks it reuses, instead of mapping fresh pages from the kernel
    for each large one; returns whether it applied (``False`` off glibc, e.g. macOS).

    A training step allocates the same few-MiB activations chunk after chunk. glibc maps each
    one above its (moving) threshold afresh and takes a page fault per page; on Amazon Photo at
    LLP's recipe that was 9-40 s of system time per 50 s epoch on one thread, and a peak RSS of
    2.95 GiB where 0.78 GiB was in use (docs/large-graphs.md). The threshold, 64 MiB by default,
    leaves larger blocks (a 200,000-node graph's activations) to the kernel, which takes them back
    when freed: with 1 GiB the heap kept them, and the peak RSS of a 200,000-node link teacher
    doubled (2.99 to 5.88 GiB). The values computed do not change.
    The ``g2m`` command calls it once at start; it is a setting of the whole process, so the
    library never calls it for you: call it (or set ``MALLOC_MMAP_THRESHOLD_``) in your own
    training script if you want the same.

    Example:
        >>> keep_freed_memory() in (True, False)
        True
    """
    if threshold_bytes < 1:
        raise G2MError(f"threshold_bytes must be positive, got {threshold_bytes}")
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, ctypes.c_int(min(threshold_bytes, 2**31 - 1))))


def device_record(device: str | torch.device | None = None) -> dict[str, Any]:
    """What a result records of where it ran: the device, its name and CUDA / cuDNN versions
    on a GPU, and torch's CPU thread count."""
    dev = resolve_device(device)
    record: dict[str, Any] = {"device": str(dev), "torch_threads": torch.get_num_threads()}
    if dev.type == "cuda":
        record.update(
            gpu=torch.cuda.get_device_name(dev),
            cuda=torch.version.cuda,
            cudnn=torch.backends.cudnn.version(),
            gpus_visible=torch.cuda.device_count(),
            cuda_visible_devices=os.environ.get("CUDA_VISIBLE_DEVICES"),
        )
    return record


def to_device_async(tensor: Tensor, device: torch.device) -> Tensor:
    """A CPU tensor copied to a GPU through pinned memory without blocking the host (PyG's
    loaders' ``pin_memory`` + ``non_blocking``); on the CPU, the tensor itself."""
    if device.type != "cuda" or tensor.device.type != "cpu":
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)


def cpu_generator(seed: int) -> torch.Generator:
    """The generator of every sampling decision (batches, negatives, walks, edge masks): on the
    CPU, so that a seed draws the same sample whatever the training device."""
    return torch.Generator(device="cpu").manual_seed(seed)


def _draw_device(gen: torch.Generator | None, like: Tensor) -> torch.device:
    return gen.device if gen is not None else like.device


def uniform(size: int | tuple[int, ...], gen: torch.Generator | None, like: Tensor) -> Tensor:
    """``U[0, 1)`` draws of shape ``size`` from ``gen`` (on the generator's device, so that a
    CPU generator draws the same numbers for every training device), placed on ``like``'s
    device; with ``gen=None``, torch's global generator of ``like``'s device."""
    shape = (size,) if isinstance(size, int) else size
    return torch.rand(shape, generator=gen, device=_draw_device(gen, like)).to(like.device)


def randint(high: int, size: int | tuple[int, ...], gen: torch.Generator | None, like: Tensor) -> Tensor:
    """Integers in ``[0, high)`` drawn as :func:`uniform`, on ``like``'s device."""
    shape = (size,) if isinstance(size, int) else size
    return torch.randint(high, shape, generator=gen, device=_draw_device(gen, like)).to(like.device)


def randperm(n: int, gen: torch.Generator | None, like: Tensor) -> Tensor:
    """A permutation of ``0..n-1`` drawn as :func:`uniform`, on ``like``'s device."""
    return torch.randperm(n, generator=gen, device=_draw_device(gen, like)).to(like.device)
