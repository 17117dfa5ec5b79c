"""Regenerate the docs' marked blocks: every ``<!-- g2m report ARGS -->``, ``<!-- lab report ARGS
-->`` and ``<!-- g2m compare ARGS -->`` block of the README and docs/ rewritten to what its command
prints from the committed files (``lab/tests/test_docs.py`` checks that they are). Run after a
results file changes: ``python -m lab markers`` (``--check``: only list the stale blocks)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

#: a marked block: the tool (g2m or lab), the command (report or compare), its arguments, the body
MARKED = re.compile(r"(<!-- (g2m|lab) (report|compare) (.+?) -->\n)(.*?)(\n<!-- /\2 \3 -->)", re.S)


def pages(repo: Path) -> list[Path]:
    """The pages whose blocks are checked: the README and every Markdown file under docs/."""
    return [repo / "README.md", *sorted((repo / "docs").rglob("*.md"))]


def rendered(tool: str, command: str, args: str) -> str:
    """What ``tool command args`` prints (run in-process, from the current directory), as a block
    body: a compare verdict fenced as text, a report as it is."""
    from typer.testing import CliRunner

    from g2m.cli.main import app as g2m_app
    from g2m.errors import G2MError
    from lab.cli import app as lab_app

    done = CliRunner().invoke(g2m_app if tool == "g2m" else lab_app, [command, *shlex.split(args)])
    if done.exit_code != 0:
        raise G2MError(f"{tool} {command} {args}: {done.output.strip() or done.exception}")
    out = done.output.strip()
    return f"```text\n{out}\n```" if command == "compare" else out


def refresh(page: Path, write: bool = True) -> list[str]:
    """Rewrite ``page``'s marked blocks that differ from their commands' output (unless not
    ``write``); the ``tool command args`` of each one that did."""
    text = page.read_text()
    stale: list[str] = []

    def block(m: re.Match[str]) -> str:
        body = rendered(m.group(2), m.group(3), m.group(4))
        if body.strip() != m.group(5).strip():
            stale.append(f"{m.group(2)} {m.group(3)} {m.group(4)}")
        return m.group(1) + body + m.group(6)

    new = MARKED.sub(block, text)
    if write and new != text:
        from g2m.files import atomic_write_text

        atomic_write_text(page, new)
    return stale
