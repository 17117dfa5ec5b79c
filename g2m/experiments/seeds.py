"""The seeds of a multi-seed experiment: ``seeds`` consecutive ones from ``first_seed``.

A long experiment can be cut by seed range across processes (``--first-seed``)
and put back together with ``g2m merge``.
"""

from __future__ import annotations


def check_seed_range(first_seed: int, seeds: int) -> None:
    if seeds < 1:
        raise ValueError("seeds must be at least 1")
    if first_seed < 0:
        raise ValueError(f"first_seed must be non-negative, got {first_seed}")


def seed_range(first_seed: int, seeds: int) -> range:
    return range(first_seed, first_seed + seeds)


def seeds_label(first_seed: int, seeds: int) -> str:
    """``5 seeds`` from seed 0, else ``5 seeds (5-9)``, as table titles show them."""
    if first_seed == 0:
        return f"{seeds} seeds"
    return f"{seeds} seeds ({first_seed}-{first_seed + seeds - 1})"
