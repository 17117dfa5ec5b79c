"""Imports flow one way, from the data up to the command line: import-linter's layers contract
(``[tool.importlinter]`` in pyproject.toml) holds on the package, and breaks on an upward import."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT = shutil.which("lint-imports", path=str(Path(sys.executable).parent))

pytestmark = pytest.mark.skipif(LINT is None, reason="import-linter is not installed (pip install '.[lint]')")


def _lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}  # the copy's g2m before the installed one
    return subprocess.run(
        [LINT, "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "g2m", tmp_path / "g2m", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_layers_contract_is_kept(tmp_path):
    done = _lint(_copy(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "upward"),
    [
        ("g2m/data/graph.py", "from g2m.api import distill  # noqa"),
        ("g2m/losses/node.py", "    from g2m.training.loop import fit  # noqa"),  # inside a function: counted too
        ("g2m/teachers/models.py", "from g2m.students.mlp import MLP  # noqa"),  # siblings stay apart
    ],
)
def test_an_upward_import_breaks_it(tmp_path, module, upward):
    root = _copy(tmp_path)
    path = root / module
    text = path.read_text()
    if upward.startswith("    "):
        text += f"\n\ndef _planted():\n{upward}\n"
    else:
        text = text.replace(
            "from __future__ import annotations\n", f"from __future__ import annotations\n\n{upward}\n", 1
        )
    path.write_text(text)
    done = _lint(root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "0 kept, 1 broken" in done.stdout
    importer = module.removesuffix(".py").replace("/", ".")
    assert importer in done.stdout, done.stdout
