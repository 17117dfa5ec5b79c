"""`g2m bench ...`: long accuracy and speed benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from g2m.cli.common import CacheDir, DataRoot, Quiet

bench_app = typer.Typer(help="Benchmarks (long runs; not part of the tests).", no_args_is_help=True)


@bench_app.command("node-table")
def node_table(
    seeds: Annotated[int, typer.Option(help="Seeds per cell.")] = 5,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("results/node-table"),
    data_root: DataRoot = None,
    cache_dir: CacheDir = None,
    quiet: Quiet = False,
) -> None:
    """Cora and CiteSeer (GCN, SAGE; transductive) and Cora inductive: all node methods."""
    from g2m.benchmarks.node_table import run_node_table

    md = run_node_table(str(data_root) if data_root else None, out, seeds,
                        str(cache_dir) if cache_dir else None, progress=not quiet)
    typer.echo(md)
    typer.echo(f"wrote {out / 'node_table.md'} and {out / 'node_table.json'}")
