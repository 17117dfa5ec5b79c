"""The rule that keeps g2m's tensors on the right device, checked on a CPU-only machine.

Every tensor factory call in the library (``torch.zeros``, ``torch.arange``, ``torch.randperm``,
``torch.Generator``, ...) must name its device: ``device=x.device`` (derived from an input),
``device=device`` (the caller's choice) or ``device="cpu"`` (host-side data preparation, an
explicit choice). A factory without ``device=`` silently lands on the CPU and breaks the
first CUDA run that meets it; ``*_like`` and ``Tensor.new_*`` factories inherit their device
and are always fine.
"""

from __future__ import annotations

import ast
from pathlib import Path

FACTORIES = frozenset(
    {
        "zeros",
        "ones",
        "empty",
        "full",
        "arange",
        "randperm",
        "rand",
        "randn",
        "randint",
        "tensor",
        "eye",
        "linspace",
        "logspace",
        "as_tensor",
        "Generator",
        "sparse_coo_tensor",
        "sparse_csr_tensor",
        "bernoulli",
        "multinomial",
        "normal",
    }
)
#: factories that take their device from a tensor argument when they have one
DERIVED_FROM_INPUT = frozenset({"bernoulli", "multinomial", "normal"})


def violations(root: Path) -> list[str]:
    """``path:line: torch.name(...)`` for every factory call under ``root`` that names no device."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            func = node.func
            if not (isinstance(func.value, ast.Name) and func.value.id == "torch" and func.attr in FACTORIES):
                continue
            if any(k.arg == "device" for k in node.keywords):
                continue
            if func.attr in DERIVED_FROM_INPUT and node.args:
                continue  # torch.bernoulli(p): p's device (the generator must match it: see g2m.device)
            found.append(f"{path}:{node.lineno}: torch.{func.attr}(...) names no device")
    return found
