"""On-disk teacher outputs, so students train without re-running the teacher.

Layout: ``<root>/<dataset>/<task>/<split key>/<model>/seed<k>/`` holding
``tensors.pt`` (e.g. ``logits``, ``hidden``, ``embeddings``) and ``meta.json``
(the key, hyper-parameters, scores, code version and a SHA-256 content hash). An entry
written by the ranks of a data-parallel run, each its own rows
(:meth:`TeacherCache.save_row_shards`), holds one raw ``<name>.bin`` per tensor instead
(``meta.json``: ``"layout": "rows"``, shapes and dtypes); both are read memory-mapped.

A write goes to a temporary sibling directory that is renamed into place, so a
reader never sees half a cache. Loading checks that the stored key equals the
requested one and that the content hash still matches; anything else raises.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import warnings
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from g2m import __version__
from g2m.errors import CacheCorruptError, CacheMismatchError, CacheWarning


@dataclass(frozen=True)
class CacheKey:
    dataset: str
    task: str  # "node" | "link"
    split: str  # NodeSplit.key() / LinkSplit.key(): setting, seed and a hash of the indices
    model: str
    seed: int

    def relpath(self) -> Path:
        return Path(self.dataset) / self.task / self.split / self.model / f"seed{self.seed}"


@dataclass
class CachedTeacher:
    key: CacheKey
    tensors: dict[str, Tensor]
    meta: dict[str, Any]
    path: Path


def content_hash(tensors: dict[str, Tensor]) -> str:
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}|".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def default_cache_root() -> Path:
    if os.environ.get("G2M_CACHE_DIR"):
        return Path(os.environ["G2M_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "g2m" / "teachers"


class TeacherCache:
    """A directory of cached teachers; ``root`` defaults to ``$G2M_CACHE_DIR`` or
    ``~/.cache/g2m/teachers``.

    A cache that cannot be written (a read-only folder, no permission) is used read-only: its
    teachers are read, a :class:`~g2m.errors.CacheWarning` says so once, and :meth:`save` keeps
    nothing (the caller holds new teachers in memory for the run). ``read_only`` says which."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_cache_root()
        self.read_only = not _writable(self.root)
        if self.read_only:
            warnings.warn(
                f"teacher cache {self.root} cannot be written: cached teachers are read from it, new ones "
                f"are kept in memory for this run only (--cache-dir a writable folder keeps them)",
                CacheWarning,
                stacklevel=2,
            )

    @classmethod
    def for_writing(cls, root: str | os.PathLike | None = None) -> TeacherCache:
        """The cache at ``root``, which must be writable (``g2m teacher``'s whole purpose is to
        write it): an error naming the folder otherwise, before any training."""
        from g2m.errors import G2MError

        path = Path(root).expanduser() if root is not None else default_cache_root()
        if not _writable(path):
            raise G2MError(
                f"teacher cache {path} cannot be written, and g2m teacher stores its teacher there: "
                f"give --cache-dir a writable folder (g2m run can read a read-only cache)"
            )
        return cls(path)

    def entry_lock(self, key: CacheKey, what: str):
        """Held while one process looks up, trains and writes the teacher of ``key``: a second
        process asking for the same teacher waits (one line says for whom), then reads it
        from the cache instead of training it again. A no-op on a read-only cache."""
        from contextlib import nullcontext

        from g2m.locks import file_lock, wait_note

        if self.read_only:
            return nullcontext()
        rel = key.relpath()
        return file_lock(
            self.root / ".locks" / (hashlib.sha256(str(rel).encode()).hexdigest()[:24] + ".lock"),
            wait=True,
            on_wait=wait_note(what),
        )

    def path(self, key: CacheKey) -> Path:
        return self.root / key.relpath()

    def exists(self, key: CacheKey) -> bool:
        return (self.path(key) / "meta.json").is_file()

    def save(self, key: CacheKey, tensors: dict[str, Tensor], meta: dict[str, Any]) -> Path | None:
        """Write the entry of ``key`` atomically (``None``, writing nothing, on a read-only cache).
        ``meta`` gains the key, g2m's version, the content hash, the tensors' shapes, when it
        was written and the torch thread count it was computed with."""
        if self.read_only:
            return None
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
        record = _entry_record(key, meta, tensors)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
        try:
            torch.save(tensors, tmp / "tensors.pt")  # straight to the file: no second copy in memory
            (tmp / "meta.json").write_text(json.dumps(record, indent=2, sort_keys=True))
            _move_into_place(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final

    def save_row_shards(
        self, key: CacheKey, rows: dict[str, Tensor], num_rows: int, meta: dict[str, Any]
    ) -> Path | None:
        """Collective (every rank of the process group calls it): write the entry of ``key`` from
        each rank's own rows ``[start, stop)`` of every tensor (:func:`g2m.distributed.row_range`
        of ``num_rows``), with no rank holding every row. Rank 0 makes a temporary entry with one
        raw file per tensor, ``<name>.bin``, sized for every row; each rank writes its rows into it
        through a shared memory map; rank 0 then hashes the whole, writes ``meta.json`` (layout
        ``"rows"``, each tensor's shape and dtype) and renames the entry into place, as :meth:`save`.
        A rank that fails leaves only the temporary folder, never an entry. ``None`` on a
        read-only cache (nothing written). The ranks share the files: one machine (tested), or a
        shared file system that keeps memory-mapped writes (multi-node, untested here)."""
        from g2m import distributed as dist

        if self.read_only:
            return None
        final = self.path(key)
        start, stop = dist.row_range(num_rows)
        shapes = {name: (num_rows, *t.shape[1:]) for name, t in rows.items()}
        made: list[str | None] = [None]
        if dist.is_main():
            final.parent.mkdir(parents=True, exist_ok=True)
            folder = tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent)
            made[0] = folder
            for name, t in rows.items():
                with open(Path(folder) / f"{name}.bin", "wb") as f:
                    f.truncate(math.prod(shapes[name]) * t.element_size())
        if dist.is_distributed():
            torch.distributed.broadcast_object_list(made, src=0)
        tmp = Path(str(made[0]))
        try:
            for name, t in rows.items():
                if t.size(0) != stop - start:
                    raise ValueError(f"{name}: this rank holds {t.size(0)} rows, its range is [{start}, {stop})")
                target = _mapped(tmp / f"{name}.bin", shapes[name], t.dtype, shared=True)
                target[start:stop] = t.detach().cpu()
                del target  # unmapped: the rows are in the file
            dist.barrier()
            if dist.is_main():
                tensors = {name: _mapped(tmp / f"{name}.bin", shapes[name], t.dtype) for name, t in rows.items()}
                record = _entry_record(
                    key,
                    meta,
                    tensors,
                    layout="rows",
                    dtypes={name: str(t.dtype).removeprefix("torch.") for name, t in rows.items()},
                    processes=dist.world_size(),
                )
                del tensors
                (tmp / "meta.json").write_text(json.dumps(record, indent=2, sort_keys=True))
                _move_into_place(tmp, final)
        except BaseException:
            if dist.is_main():
                shutil.rmtree(tmp, ignore_errors=True)
            raise
        dist.barrier()  # the entry is in place before any rank reads it
        return final

    def lookup(self, key: CacheKey, refresh: bool = False, announce: bool = False) -> CachedTeacher | None:
        """The cached teacher of ``key``, or ``None`` to (re)train it: none is cached,
        ``refresh`` asks for a new one, or the entry cannot be read (then a
        :class:`~g2m.errors.CacheWarning` names it, and it is removed). ``announce``: print
        :func:`reuse_line` to stderr when an entry is reused."""
        if refresh or not self.exists(key):
            return None
        try:
            record = self.load(key)
            if announce:
                print(reuse_line(record), file=sys.stderr, flush=True)
            return record
        except CacheCorruptError as err:
            warnings.warn(f"{err}: retraining it", CacheWarning, stacklevel=2)
            if not self.read_only:
                self.remove(key)
            return None

    def remove(self, key: CacheKey) -> None:
        shutil.rmtree(self.path(key), ignore_errors=True)

    def load(self, key: CacheKey, verify: bool = True) -> CachedTeacher:
        """The entry of ``key``; ``verify=False`` skips its content hash (an entry this run's ranks
        just wrote, which rank 0 hashed from the same files)."""
        return load_cached_teacher(self.path(key), expect=key, verify=verify)


def _entry_record(key: CacheKey, meta: dict[str, Any], tensors: dict[str, Tensor], **extra: Any) -> dict[str, Any]:
    """``meta.json`` of an entry: ``meta`` with the key, g2m's version, the content hash, the
    tensors' shapes, when it was written and the torch thread count, and ``extra``."""
    return {
        **meta,
        "key": asdict(key),
        "code_version": __version__,
        "content_hash": content_hash(tensors),
        "tensors": {k: list(v.shape) for k, v in tensors.items()},
        **extra,
        "written": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "torch_threads": torch.get_num_threads(),
    }


def _move_into_place(tmp: Path, final: Path) -> None:
    """Rename the finished temporary entry ``tmp`` to ``final``, replacing an older one."""
    if final.exists():
        trash = final.with_name(f".{final.name}.old")
        shutil.rmtree(trash, ignore_errors=True)
        final.rename(trash)
        tmp.rename(final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        tmp.rename(final)


def _mapped(path: Path, shape: tuple[int, ...], dtype: torch.dtype, shared: bool = False) -> Tensor:
    """The raw file ``path`` as a ``shape`` tensor, memory-mapped: ``shared`` writes go to the file;
    otherwise the mapping is private (copy on write), its pages shared with every reader's."""
    return torch.from_file(str(path), shared=shared, size=math.prod(shape), dtype=dtype).view(shape)


def _writable(root: Path) -> bool:
    """Whether ``root`` (or, while it does not exist, its nearest existing parent) can be written."""
    probe = root
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        return False
    try:  # a real write: permission bits say nothing to root, and nothing of a read-only mount to some tools
        with tempfile.TemporaryFile(dir=probe):
            return True
    except OSError:
        return False


def reuse_line(record: CachedTeacher) -> str:
    """One line saying which cached teacher is reused: where, when and by what it was written."""
    meta = record.meta
    written = meta.get("written", "an unrecorded time")
    threads = meta.get("torch_threads")
    by = f"g2m {meta.get('code_version', '?')}" + (f", {threads} torch thread(s)" if threads else "")
    return (
        f"reusing the cached {record.key.model} teacher (seed {record.key.seed}) from {record.path}, written "
        f"{written} by {by}; --refresh retrains it, --no-cache ignores the cache"
    )


def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The ``meta.json`` of the cache directory ``path``, checked to hold a key and a
    content hash; a file that cannot be read raises :class:`CacheCorruptError` naming it."""
    meta_file = Path(path) / "meta.json"
    if not meta_file.is_file():
        raise FileNotFoundError(f"no cached teacher at {path} (meta.json missing)")
    try:
        meta = json.loads(meta_file.read_text())
        CacheKey(**meta["key"])
        meta["content_hash"]
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as err:
        raise CacheCorruptError(f"{meta_file} cannot be read ({type(err).__name__}: {err}); {_FIX}") from None
    return meta


def load_cached_teacher(path: str | os.PathLike, expect: CacheKey | None = None, verify: bool = True) -> CachedTeacher:
    """Load a cache directory; with ``expect``, refuse one made for another key; ``verify`` checks
    the tensors against the content hash."""
    path = Path(path)
    meta = read_meta(path)
    key = CacheKey(**meta["key"])
    if expect is not None and key != expect:
        diffs = [
            f"{f}: cached {getattr(key, f)!r} != requested {getattr(expect, f)!r}"
            for f in ("dataset", "task", "split", "model", "seed")
            if getattr(key, f) != getattr(expect, f)
        ]
        raise CacheMismatchError(f"cached teacher at {path} does not match: " + "; ".join(diffs))
    tensor_file = path / "tensors.pt"
    try:
        # memory-mapped: processes on one machine (data-parallel ranks) share the pages, not copies
        if meta.get("layout") == "rows":  # written by every rank, its rows each (save_row_shards)
            tensor_file = path
            tensors = {
                name: _mapped(path / f"{name}.bin", tuple(shape), getattr(torch, meta["dtypes"][name]))
                for name, shape in meta["tensors"].items()
            }
        else:
            tensors = torch.load(tensor_file, weights_only=True, mmap=True)
    except Exception as err:  # noqa: BLE001 - a truncated or foreign file: torch raises many kinds
        detail = str(err).splitlines()[0][:120] if str(err) else ""
        raise CacheCorruptError(f"{tensor_file} cannot be read ({type(err).__name__}: {detail}); {_FIX}") from None
    if verify and content_hash(tensors) != meta["content_hash"]:
        raise CacheCorruptError(f"{tensor_file} fails its content hash; {_FIX}")
    return CachedTeacher(key, tensors, meta, path)


_FIX = "it is retrained by `g2m run` / `g2m teacher` (add --refresh to force it), or delete the folder"


def cache_entries(root: str | os.PathLike, dataset: str | None = None) -> list[Path]:
    """Every cached teacher directory under ``root`` (one ``meta.json`` each), optionally
    of one dataset; temporary and unfinished writes are skipped."""
    base = Path(root) / dataset if dataset else Path(root)
    return sorted(
        p.parent for p in base.rglob("meta.json") if not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
