"""Where a teacher lives in the cache: the key of a node or link teacher (dataset, split,
model and a hash of its hyper-parameters, seed), and the lookup of a cached node teacher by
dataset, split, model and seed when its hyper-parameters are not known."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from g2m.cache.teacher_cache import CachedTeacher, CacheKey, TeacherCache, load_cached_teacher, read_meta
from g2m.errors import G2MError

if TYPE_CHECKING:
    from g2m.config import LinkTeacherConfig, TeacherConfig
    from g2m.data.link_splits import LinkSplit
    from g2m.data.splits import NodeSplit


def stable_hash(obj: Any, length: int = 16) -> str:
    """The first ``length`` hex digits of the SHA-256 of ``obj`` as sorted-key JSON."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:length]


def config_tag(config: Any) -> str:
    """Short hash of a config, so caches of different hyper-parameters never collide.

    Options added later (``option(..., new=True)``) are left out at their default value, so
    the tags of caches written before they existed stay valid.
    """
    from g2m.config import unread_fields

    values = asdict(config)
    unread = unread_fields(type(config), values)
    for f in dataclasses.fields(config):
        if f.metadata.get("omit_default_from_tag") and (
            values[f.name] == f.metadata.get("before", f.default) or f.name in unread
        ):
            del values[f.name]
    return stable_hash(values, 8)


def teacher_cache_key(dataset: str, split: NodeSplit, config: TeacherConfig, seed: int) -> CacheKey:
    return CacheKey(dataset, "node", split.key(), f"{config.model}-{config_tag(config)}", seed)


def link_teacher_cache_key(dataset: str, split: LinkSplit, config: LinkTeacherConfig, seed: int) -> CacheKey:
    return CacheKey(dataset, "link", split.key(), f"{config.model}-{config_tag(config)}", seed)


def locate_node_teacher(
    cache: TeacherCache, dataset: str, split: NodeSplit, teacher: str, seed: int, path: str | None = None
) -> Path:
    """The cache directory of ``teacher`` for this dataset, split and seed: ``path``, or
    the only one in ``cache`` (any hyper-parameters). None, or several, raise."""
    if path is not None:
        return Path(path)
    found = sorted((cache.root / dataset / "node" / split.key()).glob(f"{teacher}-*/seed{seed}/meta.json"))
    if not found:
        raise G2MError(
            f"no cached {teacher} teacher for {dataset} ({split.setting}, seed {seed}) in {cache.root}; "
            f"run `g2m teacher --dataset {dataset} --model {teacher} --seed {seed} "
            f"--setting {split.setting}` first"
        )
    if len(found) > 1:
        listing = "\n  ".join(str(f.parent) for f in found)
        raise G2MError(f"several cached {teacher} teachers match; pick one with --teacher-cache:\n  {listing}")
    return found[0].parent


def find_node_teacher(
    cache: TeacherCache, dataset: str, split: NodeSplit, teacher: str, seed: int, path: str | None = None
) -> CachedTeacher:
    """The cached teacher :func:`locate_node_teacher` finds, checked against the key."""
    where = locate_node_teacher(cache, dataset, split, teacher, seed, path)
    stored = read_meta(where)["key"]["model"]  # an explicit cache may hold any hyper-parameters
    model = stored if isinstance(stored, str) and stored.startswith(f"{teacher}-") else teacher
    return load_cached_teacher(where, expect=CacheKey(dataset, "node", split.key(), model, seed))
