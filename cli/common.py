"""Options and helpers shared by the CLI commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

DataRoot = Annotated[
    Optional[Path],
    typer.Option("--data-root", envvar="G2M_DATA_ROOT", help="Dataset root (default: ~/.cache/g2m/datasets)."),
]
CacheDir = Annotated[
    Optional[Path],
    typer.Option("--cache-dir", envvar="G2M_CACHE_DIR", help="Teacher cache (default: ~/.cache/g2m/teachers)."),
]
Dataset = Annotated[str, typer.Option("--dataset", "-d", help="Registered dataset name (see `g2m datasets`).")]
Seed = Annotated[int, typer.Option(help="Random seed (split, initialisation, dropout).")]
Setting = Annotated[str, typer.Option(help="transductive | inductive")]
Split = Annotated[Optional[str], typer.Option(help="public | fixed | random | ogb (default: the dataset's protocol).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]


def overrides(**values: Any) -> dict[str, Any]:
    """Keep only the options the user actually set."""
    return {k: v for k, v in values.items() if v is not None}


def echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))
