"""A read-only cache is read and never written; --no-cache never touches the cache (real g2m processes)."""

from __future__ import annotations

import json

import pytest
from processes import g2m_process, tiny_run

#: the full tier only (make test-fast leaves these out): g2m processes, end-to-end runs
pytestmark = pytest.mark.slow


def test_read_only_cache_is_read_and_never_written(read_only_dir, tmp_path):
    cache = tmp_path / "cache"
    first = tiny_run("mlp", tmp_path / "a", cache, 1, "--epochs", "5", "-q")
    assert first.returncode == 0, first.stderr
    ro = read_only_dir({"cache": cache})
    res = tiny_run("glnn", tmp_path / "b", ro / "cache", 2, "--epochs", "5")
    assert res.returncode == 0, res.stderr
    assert "cannot be written: cached teachers are read from it, new ones are kept in memory" in res.stderr
    assert "reusing the cached gcn" in res.stderr  # seed 0 from the cache; seed 1 trained and kept in memory
    runs = json.loads((tmp_path / "b" / "results.json").read_text())["runs"]
    assert [r["cached"] for r in runs if r["model"].startswith("teacher")] == [True, False]
    refused = g2m_process("teacher", "-d", "csbm", "--cache-dir", ro / "cache")
    assert refused.returncode == 2 and refused.stderr.strip().splitlines()[-1].startswith(
        f"error: teacher cache {ro / 'cache'} cannot be written"
    )


def test_no_cache_never_touches_the_cache(tmp_path):
    res = tiny_run("mlp", tmp_path / "r", tmp_path / "cache", 1, "--epochs", "2", "--no-cache", "-q")
    assert res.returncode == 0, res.stderr
    assert not (tmp_path / "cache").exists() and "reusing" not in res.stderr
