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


@bench_app.command("rank-loss")
def rank_loss(
    anchors: Annotated[int, typer.Option(help="Anchors.")] = 1024,
    contexts: Annotated[int, typer.Option(help="Context nodes per anchor.")] = 32,
    repeats: Annotated[int, typer.Option(help="Timed repeats (best is kept).")] = 3,
) -> None:
    """LLP rank loss: vectorised vs a naive pair-list implementation (forward + backward)."""
    from g2m.benchmarks.rank_loss import bench_rank_loss
    from g2m.cli.common import echo_json

    echo_json(bench_rank_loss(anchors, contexts, repeats=repeats))


@bench_app.command("link-table")
def link_table(
    seeds: Annotated[int, typer.Option(help="Seeds per cell.")] = 5,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("results/link-table"),
    data_root: DataRoot = None,
    cache_dir: CacheDir = None,
    quiet: Quiet = False,
) -> None:
    """Cora and CiteSeer (SAGE teacher; transductive) and Cora production: all link methods."""
    from g2m.benchmarks.link_table import run_link_table

    md = run_link_table(str(data_root) if data_root else None, out, seeds,
                        str(cache_dir) if cache_dir else None, progress=not quiet)
    typer.echo(md)
    typer.echo(f"wrote {out / 'link_table.md'} and {out / 'link_table.json'}")


@bench_app.command("edge-memory")
def edge_memory(
    nodes: Annotated[int, typer.Option(help="Nodes.")] = 1_000_000,
    edges: Annotated[int, typer.Option(help="Edges.")] = 10_000_000,
    classes: Annotated[int, typer.Option(help="Classes.")] = 50,
    chunk_size: Annotated[int, typer.Option(help="Edges per chunk (0: no chunking).")] = 1_000_000,
    loss: Annotated[str, typer.Option(help="lfd | hfd")] = "hfd",
) -> None:
    """Peak extra memory and time of one edge-wise loss forward + backward on random logits."""
    from g2m.benchmarks.edge_memory import edge_loss_memory
    from g2m.cli.common import echo_json

    echo_json(edge_loss_memory(nodes, edges, classes, chunk_size or None, loss))
