"""Every public loss, function or module, carries an ``Example:`` that the suite runs as a doctest
(``--doctest-modules`` in pyproject.toml runs every Example of the package)."""

import importlib
import inspect

import pytest
import torch

MODULES = ("g2m.losses.node", "g2m.losses.link", "g2m.nn")


def _public(module):
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj) or (inspect.isclass(obj) and issubclass(obj, torch.nn.Module)):
            yield name, obj


@pytest.mark.parametrize("name", MODULES)
def test_every_public_loss_has_an_example(name):
    module = importlib.import_module(name)
    found = dict(_public(module))
    assert len(found) >= 5
    missing = [n for n, obj in found.items() if ">>> " not in (inspect.getdoc(obj) or "")]
    assert not missing, f"give these an Example: with a doctest: {missing}"
