"""Entry point of the ``g2m`` console script."""

from __future__ import annotations

import sys

import typer

from g2m.cli import node
from g2m.cli.bench import bench_app
from g2m.cli.compare import compare
from g2m.cli.datasets import datasets
from g2m.cli.merge import merge
from g2m.errors import G2MError

app = typer.Typer(
    name="g2m",
    help="Distil GNN teachers into MLP students (GLNN, FF-G2M, LLP) and measure them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("datasets")(datasets)
app.command("teacher")(node.teacher)
app.command("distill")(node.distill)
app.command("eval")(node.evaluate)
app.command("run")(node.run)
app.command("export")(node.export)
app.command("merge")(merge)
app.command("compare")(compare)
app.add_typer(bench_app, name="bench")


def main() -> None:
    """Run the CLI; library errors print one clear line and exit with status 2."""
    try:
        app()
    except (G2MError, ValueError, FileNotFoundError) as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
