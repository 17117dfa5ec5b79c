"""The `Example:` blocks of the public API run as doctests (issue 42 asks for every one; these are
the modules whose docstrings carry one so far)."""

import doctest
import importlib

import pytest

MODULES = (
    "g2m.ops.pairs",
    "g2m.training.chunked",
    "g2m.losses.link",
    "g2m.nn",
    "g2m.data.splits",
    "g2m.evaluation.link_metrics",
)


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no Example to run"
    assert result.failed == 0
