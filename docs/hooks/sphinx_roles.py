"""A Griffe extension for the docs site: g2m's docstrings use Sphinx roles (PyG's habit:
``:class:`~g2m.data.splits.NodeSplit```), which mkdocstrings would show raw. Each role becomes an
mkdocstrings cross-reference (``[NodeSplit][g2m.data.splits.NodeSplit]``) when its target is an
object the API reference renders, and inline code otherwise (so ``mkdocs build --strict`` has no
dangling link). Short names resolve from the object's class, then its module.

Used by mkdocs.yml (``extensions: [docs/hooks/sphinx_roles.py]``); not part of the package.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj):`(~?)([^`<]+?)(?:\s*<([^`>]+)>)?`")
LOOKUP_ERRORS = (KeyError, ValueError, AttributeError, griffe.AliasResolutionError, griffe.CyclicAliasError)
REFERENCE = Path(__file__).resolve().parents[1] / "reference.md"


def _rendered_roots() -> list[str]:
    return [line[4:].strip() for line in REFERENCE.read_text().splitlines() if line.startswith("::: ")]


class SphinxRoles(griffe.Extension):
    def __init__(self) -> None:
        super().__init__()
        self.roots = _rendered_roots()

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        for obj in _walk(pkg):
            if obj.docstring is not None:
                obj.docstring.value = ROLE.sub(lambda m: self._link(m, obj, loader), obj.docstring.value)

    def _link(self, match: re.Match, obj: Any, loader: griffe.GriffeLoader) -> str:
        tilde, text, explicit = match.group(1), match.group(2).strip(), match.group(3)
        name = (explicit or text).strip().rstrip("()")
        shown = text if explicit else (name.rsplit(".", 1)[-1] if tilde else name)
        target = self._resolve(name, obj, loader)
        if target is None or not self._is_rendered(target, loader):
            return f"`{shown}`"
        return f"[`{shown}`][{target}]"

    def _resolve(self, name: str, obj: Any, loader: griffe.GriffeLoader) -> str | None:
        name = name.lstrip(".")
        scopes = [name]
        holder = obj
        while holder is not None:  # the object itself, its class, its module, ... up to the package
            scopes.append(f"{holder.path}.{name}")
            holder = holder.parent
        for path in scopes:
            try:
                found = loader.modules_collection.get_member(path)
            except LOOKUP_ERRORS:
                continue
            if found is not None:
                return path
        return None

    def _is_rendered(self, path: str, loader: griffe.GriffeLoader) -> bool:
        if not any(path == root or path.startswith(root + ".") for root in self.roots):
            return False
        parts = path.split(".")
        if any(p.startswith("_") and not p.startswith("__") for p in parts):
            return False
        try:
            target = loader.modules_collection.get_member(path)
            if target.is_alias:
                return False
        except LOOKUP_ERRORS:
            return False
        return path in self.roots or target.docstring is not None


def _walk(obj: Any):
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _walk(member)
