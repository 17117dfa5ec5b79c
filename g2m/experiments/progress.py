"""Resuming an interrupted multi-seed run: each finished (model, seed) row is appended
to a JSON-lines file as soon as it exists; a new run of the same experiment reuses the
rows whose configuration is unchanged instead of retraining them."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from g2m.cache.keys import stable_hash
from g2m.errors import G2MError
from g2m.evaluation.results import RunRow


def fingerprint(*parts: Any) -> str:
    """A short hash of JSON-able ``parts``: two runs that share it may share rows."""
    return stable_hash(parts)


def reuse_or_train(
    log: RunLog | None, model: str, seed: int, tag: str, train: Callable[[], RunRow], reuse: bool = True
) -> RunRow:
    """The row ``log`` holds for ``(model, seed, tag)`` when ``reuse`` allows it; else the
    row ``train()`` returns, recorded in ``log`` as soon as it exists."""
    done = log.get(model, seed, tag) if log is not None and reuse else None
    if done is not None:
        return done
    row = train()
    if log is not None:
        log.add(row, tag)
    return row


class RunLog:
    """Rows of one experiment (``experiment`` is its :func:`fingerprint`) kept in ``path``.

    A row is found again only under the same experiment, model, seed and ``tag`` (the
    hash of the configuration that produced it); ``announce`` prints how many rows a resumed
    run reuses. Lines of other experiments, and a last
    line cut short by an interruption, are ignored."""

    def __init__(self, path: str | os.PathLike, experiment: str, announce: bool = False) -> None:
        self.path, self.experiment = Path(path), experiment
        self._rows: dict[tuple[str, int, str], dict[str, Any]] = {}
        if self.path.is_file():
            for line in self.path.read_text().splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(entry, dict) and entry.get("experiment") == experiment:
                    row = entry["row"]
                    self._rows[row["model"], row["seed"], entry["tag"]] = row
        if announce and self._rows:  # a resumed run says what it reuses
            print(
                f"resuming: {len(self._rows)} finished student(s) recorded in {self.path} are reused",
                file=sys.stderr,
                flush=True,
            )

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, model: str, seed: int, tag: str) -> dict[str, Any] | None:
        return self._rows.get((model, seed, tag))

    def add(self, row: dict[str, Any], tag: str) -> None:
        from g2m.distributed import is_main

        self._rows[row["model"], row["seed"], tag] = row
        if not is_main():  # data-parallel: rank 0 records
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"experiment": self.experiment, "tag": tag, "row": row}, default=str)
        try:
            with open(self.path, "a") as fh:
                fh.write(line + "\n")
        except OSError as err:
            raise G2MError(f"cannot record progress in {self.path}: {err.strerror}") from err

    def close(self) -> None:
        """The run finished and its results are written: forget the rows."""
        self.path.unlink(missing_ok=True)
