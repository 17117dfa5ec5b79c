"""The Typer app as a whole: every command's help renders as written."""

import typer
from rich.text import Text
from typer.testing import CliRunner

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


def test_help_lists_every_choice_the_parsers_accept():
    # issue 41: --split omitted glnn and linkx, --teacher vqgcn, --setting offered inductive for links
    import re

    from g2m.data import link_splits, splits
    from g2m.methods import (
        LINK_METHODS,
        LINK_SETTING_NAMES,
        NODE_METHODS,
        NODE_SETTINGS,
        NODE_TEACHERS,
        SPLIT_NAMES,
        TEACHERS,
    )

    assert splits.SPLIT_NAMES == SPLIT_NAMES and splits.SETTINGS == NODE_SETTINGS
    assert set(LINK_SETTING_NAMES) < set(link_splits.LINK_SETTINGS)
    runner = CliRunner()
    for command in ("teacher", "distill", "run"):
        text = re.sub(r"[\s│]+", " ", runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output)
        for name in SPLIT_NAMES:
            assert re.search(rf"\b{name}\b", text.split("--split", 1)[1][:300]), (command, name)
        setting = text.split("--setting", 1)[1][:300]
        assert all(n in setting for n in NODE_SETTINGS + LINK_SETTING_NAMES), command
        assert "Link (--task link): transductive | production" in setting, command
        teacher = text.split("--teacher", 1)[1][:300]
        assert all(n in teacher for n in NODE_TEACHERS + TEACHERS), command
    distill = re.sub(r"[\s│]+", " ", runner.invoke(app, ["distill", "--help"], env={"COLUMNS": "200"}).output)
    method = distill.split("--method <str>", 1)[1][:600]
    assert all(re.search(rf"\b{m}\b", method) for m in NODE_METHODS + LINK_METHODS)
