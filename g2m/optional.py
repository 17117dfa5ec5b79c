"""Choosing between a compiled optional package and g2m's pure-PyTorch code for one job.

Scatter ops (torch-scatter), neighbour sampling (PyG's loader on pyg-lib / torch-sparse) and
random walks (torch-cluster) each take ``"auto"`` (the compiled one when installed), the
compiled one by name (an error when it is missing: nothing falls back silently) or g2m's.
"""

from __future__ import annotations


def resolve_choice(
    kind: str,
    name: str,
    choices: tuple[str, ...],
    compiled: str,
    fallback: str,
    installed: bool,
    package: str,
    param: str,
    auto: str | None = None,
) -> str:
    """``name`` checked against ``choices``, with ``"auto"`` resolved by ``installed`` (or to
    ``auto`` when given: one engine whatever is installed).

    ``kind`` names the option in messages, ``package`` what ``compiled`` needs and how to
    install it, ``param`` the argument a caller passes ``fallback`` to instead.
    """
    if name not in choices:
        raise ValueError(f"unknown {kind} {name!r}; choose one of {choices}")
    if name == "auto":
        return auto if auto is not None else compiled if installed else fallback
    if name == compiled and not installed:
        raise ImportError(f"{kind} {compiled!r} needs {package}, or use {param}={fallback!r}")
    return name
