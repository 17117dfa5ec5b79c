"""Named link-distillation methods and their default per-term weights.

Each method switches on some of: ``sup`` (link BCE), ``rank`` (LLP rank),
``dist`` (LLP distribution), ``logit`` (score MSE), ``repr`` (embedding cosine).
Any weight can be overridden; a term with weight 0 is not computed.
"""

from __future__ import annotations

from g2m.methods import LINK_METHODS, LINK_TERM_WEIGHTS, LINK_TERMS

TERMS = LINK_TERMS
DEFAULT_WEIGHTS = LINK_TERM_WEIGHTS


def check_link_method(method: str) -> str:
    if method not in LINK_METHODS:
        raise ValueError(f"unknown link method {method!r}; choose one of {LINK_METHODS}")
    return method


def term_weights(method: str, **overrides: float | None) -> dict[str, float]:
    """The method's weights with ``w_<term>`` overrides applied (``None`` keeps the default)."""
    weights = {t: DEFAULT_WEIGHTS[check_link_method(method)].get(t, 0.0) for t in TERMS}
    for term in TERMS:
        value = overrides.get(f"w_{term}")
        if value is not None:
            if value < 0:
                raise ValueError(f"weight w_{term} must be non-negative, got {value}")
            weights[term] = float(value)
    if method == "mlp" and any(weights[t] for t in TERMS if t != "sup"):
        raise ValueError("method 'mlp' has no teacher terms; pick another method to weight them")
    return weights
