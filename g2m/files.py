"""Files written whole or not at all: a temporary file in the same directory, renamed into place.

Every file g2m writes for a user (results, students, cached teachers, checkpoints) goes through
here, so that an interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from g2m.errors import G2MError


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write via a temporary file in the same directory, then rename into place;
    on failure the temporary file is removed and ``path`` is untouched."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are meant to be read
        os.replace(tmp, path)
    except OSError as err:  # name the file asked for, never the temporary one
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise G2MError(f"cannot write {path}: {err.strerror or err}") from None
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode())
