"""Entry point of the ``g2m`` console script."""

from __future__ import annotations

import sys
import warnings

import typer

from g2m.cli import node, train
from g2m.cli.bench import bench_app
from g2m.cli.cache import cache_app
from g2m.cli.compare import compare
from g2m.cli.config import config_app
from g2m.cli.datasets import datasets
from g2m.cli.ensemble import ensemble
from g2m.cli.leaderboard import leaderboard
from g2m.cli.merge import merge
from g2m.cli.report import report
from g2m.cli.split import split
from g2m.cli.tune import tune
from g2m.errors import G2MError, G2MWarning

app = typer.Typer(
    name="g2m",
    help="Distil GNN teachers into MLP students (GLNN, FF-G2M, LLP) and measure them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("datasets")(datasets)
app.command("teacher")(train.teacher)
app.command("distill")(train.distill)
app.command("eval")(node.evaluate)
app.command("run")(train.run)
app.command("export")(node.export)
app.command("merge")(merge)
app.command("compare")(compare)
app.command("report")(report)
app.command("leaderboard")(leaderboard)
app.command("tune")(tune)
app.command("split")(split)
app.command("ensemble")(ensemble)
app.add_typer(bench_app, name="bench")
app.add_typer(cache_app, name="cache")
app.add_typer(config_app, name="config")


def _flag_type(self: typer.core.TyperOption, ctx) -> str | None:
    """Typer prints ``<bool>`` beside on/off switches, which reads as if they took a
    value; switches show no type."""
    return None if self.is_flag else _typer_display_type(self, ctx)


_typer_display_type = typer.core.TyperOption.display_type_rich
typer.core.TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """g2m's own warnings as one ``warning: ...`` line; others as Python prints them."""
    if issubclass(category, G2MWarning):
        print(f"warning: {message}", file=sys.stderr if file is None else file, flush=True)
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


_python_showwarning = warnings.showwarning


def main() -> None:
    """Run the CLI; library errors print one clear line and exit with status 2."""
    from g2m.device import keep_freed_memory  # here: `g2m --help` must not import torch

    warnings.showwarning = _show_warning
    keep_freed_memory()  # the CLI owns its process: large CPU buffers are reused, not remapped
    try:
        app()
    except (G2MError, ValueError, FileNotFoundError) as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
