"""Exceptions raised by g2m. Every one names the problem and, where it can, the fix."""

from __future__ import annotations

import importlib
from types import ModuleType


class G2MError(Exception):
    """Base class of every error g2m raises on bad input or missing resources."""


class DatasetNotFoundError(G2MError, KeyError):
    """An unknown dataset name was requested."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class DatasetUnavailableError(G2MError):
    """A known dataset has no files on disk and could not be downloaded."""


class InvalidGraphError(G2MError, ValueError):
    """A graph or its labels cannot be used (no edges, labels missing, ...)."""


class SplitError(G2MError, ValueError):
    """A split was asked for with an unknown name or parameters out of range."""


class CacheMismatchError(G2MError):
    """A cached teacher was produced for another dataset, split, model or seed."""


class CacheCorruptError(G2MError):
    """A cached teacher's content does not match its recorded hash."""


class G2MWarning(UserWarning):
    """Base class of g2m's warnings; the CLI prints them as one ``warning: ...`` line."""


class DataWarning(G2MWarning):
    """A graph g2m can use but should say something about (isolated nodes, ...)."""


class CacheWarning(G2MWarning):
    """A cached teacher could not be read and is being retrained."""


class DataParallelWarning(G2MWarning):
    """A data-parallel run that differs from a single process's (batch norm on the CPU)."""


def require(module: str, needed_by: str, extra: str) -> ModuleType:
    """``module`` imported, or one :class:`G2MError` saying what needs it and which extra installs
    it (the core install holds what ``g2m run`` needs; the rest are extras)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError:
        raise G2MError(f"{needed_by} needs {module.split('.')[0]}: pip install 'g2m[{extra}]'") from None
