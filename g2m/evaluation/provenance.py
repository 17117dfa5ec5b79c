"""What produced a result: g2m's version and commit, library versions, the machine and
the exact command line. Stored in every ``results.json`` the CLI writes."""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from g2m import __version__

_HERE = Path(__file__).resolve().parent


def git_commit(path: Path = _HERE) -> str | None:
    """The commit of the g2m checkout (``+dirty`` when it has local changes), or ``None``
    for an installed copy outside git."""
    try:
        run = lambda *args: subprocess.run(  # noqa: E731
            ["git", *args], cwd=path, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        commit = run("rev-parse", "HEAD")
        return commit + ("+dirty" if run("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.SubprocessError):
        return None


def g2m_argv(argv: list[str]) -> list[str]:
    """``argv`` with its program written ``g2m`` when it is the g2m program (the console script,
    ``python -m g2m`` or ``python -m g2m.cli.main``, from any checkout), so that a recorded
    command can be run again as it reads."""
    if argv and (Path(argv[0]).name == "g2m" or argv[0].endswith(("cli/main.py", "g2m/__main__.py"))):
        return ["g2m", *argv[1:]]
    return list(argv)


#: PyG's optional compiled packages: which are installed decides engines a run may use (``auto``:
#: torch-cluster's random walks, PyG's NeighborLoader on torch-sparse or pyg-lib, torch-scatter's kernels)
EXTENSIONS = ("torch_scatter", "torch_sparse", "torch_cluster", "pyg_lib")


def extension_versions() -> dict[str, str | None]:
    """Each of :data:`EXTENSIONS` with its installed version, or None (never imported here)."""
    from importlib import metadata

    found: dict[str, str | None] = {}
    for name in EXTENSIONS:
        try:
            found[name] = metadata.version(name.replace("_", "-"))
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def auto_engines() -> dict[str, str]:
    """What ``auto`` resolves to here: the neighbour sampler (``pyg`` or ``g2m``) and the random-walk
    kernel (``torch_cluster`` or ``g2m``). A seed's sampled neighbourhoods and walks, and so its
    numbers, depend on them."""
    from g2m.data.neighbour_sampler import resolve_sampler
    from g2m.data.sampling import resolve_walker

    return {"sampler": resolve_sampler("auto"), "walker": resolve_walker("auto")}


def provenance(
    argv: list[str] | None = None, device: dict[str, Any] | None = None, started_at: str | None = None
) -> dict[str, Any]:
    """``argv``: the command that produced the result (default ``sys.argv``, its program named by
    :func:`g2m_argv`); ``device``: where it ran (:func:`g2m.device.device_record`; default: the CPU);
    ``started_at``: :func:`git_commit` when the run started, the code that ran (Python reads g2m as
    the process starts), recorded as ``commit``; when the checkout has changed since, its state at
    the end is ``commit_at_end``. Default: the commit now."""
    import torch
    import torch_geometric

    from g2m.device import device_record
    from g2m.evaluation.machine import cpu_model

    argv = g2m_argv(sys.argv) if argv is None else argv
    now = git_commit()
    commit = now if started_at is None else started_at
    return {
        "g2m": __version__,
        "commit": commit,
        **({"commit_at_end": now} if now != commit else {}),
        "command": shlex.join(argv),
        "torch": torch.__version__,
        "torch_geometric": torch_geometric.__version__,
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": device if device is not None else device_record("cpu"),
        "extensions": extension_versions(),
        "auto_engines": auto_engines(),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
