"""The Typer app as a whole: every command's help renders as written."""

import typer
from rich.text import Text

from g2m.cli.main import app


def _commands(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_no_help_text_loses_a_bracketed_word_to_rich_markup():
    """Typer renders help with Rich, which takes `[word]` for a style tag and drops it: a TOML table
    such as `[hparams.student]` must be written `\\[hparams.student]` to reach the user."""
    eaten = [
        f"g2m {' '.join(path)} {name}"
        for path, command in _commands(typer.main.get_command(app))
        for name, text in [*((p.name, getattr(p, "help", None)) for p in command.params), ("(help)", command.help)]
        if text and Text.from_markup(text).plain != text.replace("\\[", "[")
    ]
    assert eaten == []


def test_the_run_help_shows_the_config_tables():
    from typer.testing import CliRunner

    done = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert done.exit_code == 0 and "[hparams.teacher]" in done.output and "[hparams.student]" in done.output
