"""Imports flow one way, from the data up to the command line, and the library never imports its lab:
import-linter's contracts (``[tool.importlinter]`` in pyproject.toml) hold on the package, and break on
an upward import or an import of ``lab``."""

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
    for package in ("g2m", "lab"):
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_layers_contract_is_kept(tmp_path):
    done = _lint(_copy(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "upward"),
    [
        ("g2m/evaluation/report.py", "from lab.node_table import CHECKS  # noqa"),  # the library uses no lab
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
    assert " broken" in done.stdout and "0 broken" not in done.stdout
    importer = module.removesuffix(".py").replace("/", ".")
    assert importer in done.stdout, done.stdout


def test_the_design_layout_cli_and_datasets_at_the_top_level():
    """The Typer app lives in cli/ and the dataset specs and recipes in datasets/, at the top of the
    repository; the package reaches them as g2m.cli and g2m.specs (links inside g2m/), so that an
    editable install, the linters and the import contract see one package."""
    for top, inside in (("cli", "g2m/cli"), ("datasets", "g2m/specs")):
        assert (REPO / top).is_dir() and not (REPO / top).is_symlink()
        assert (REPO / inside).is_symlink() and (REPO / inside).resolve() == (REPO / top).resolve()
    import g2m.cli.main
    import g2m.data.specs

    assert Path(g2m.cli.main.__file__).resolve() == (REPO / "cli" / "main.py").resolve()
    assert "cora" in g2m.data.specs.load_specs()


@pytest.mark.slow
def test_a_wheel_ships_one_package_that_runs(tmp_path):
    """`pip wheel .` holds g2m alone (cli/ and datasets/ inside it as g2m/cli and g2m/specs, no
    top-level `cli` or `datasets`), and installed on its own it lists the datasets and runs."""
    import zipfile

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("g2m-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "g2m/cli/main.py" in names and "g2m/specs/cora.toml" in names and "g2m/specs/recipes/nosmog.toml" in names
    assert not [n for n in names if n.split("/")[0] in ("cli", "datasets", "tests", "docs", "lab")]
    top = next(n for n in names if n.endswith("top_level.txt"))
    assert zipfile.ZipFile(wheel).read(top).decode().split() == ["g2m"]
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    env = {**os.environ, "PYTHONPATH": str(site), "OMP_NUM_THREADS": "1"}  # the wheel's g2m, this env's torch

    def g2m(*args):
        return subprocess.run(
            [sys.executable, "-m", "g2m", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )

    where = subprocess.run(
        [sys.executable, "-c", "import g2m, importlib.util as u; print(g2m.__file__, u.find_spec('cli'))"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert where.stdout.split() == [str(site / "g2m" / "__init__.py"), "None"], where.stdout + where.stderr
    listed = g2m("datasets")
    assert listed.returncode == 0 and "cora" in listed.stdout, listed.stderr
    run = g2m("run", "-d", "csbm", "--seeds", "1", "--epochs", "3", "--out", str(tmp_path / "r"), "-q")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "r" / "results.json").is_file()
