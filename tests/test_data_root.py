"""A read-only data root: the error says where to copy the datasets."""

from __future__ import annotations

import pytest
from processes import g2m_process

#: the full tier only (make test-fast leaves these out): g2m processes, end-to-end runs
pytestmark = pytest.mark.slow


def test_read_only_data_root_says_where_to_copy(read_only_dir, data_root):
    ro = read_only_dir({"Cora/raw": data_root / "Cora" / "raw"})  # raw files only: PyG must write processed/
    res = g2m_process("teacher", "-d", "cora", "--data-root", ro, "--epochs", "1")
    assert res.returncode == 2
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: dataset 'cora': cannot write under the data root {ro}")
    assert "--data-root /tmp/g2m-data" in last and "Traceback" not in res.stderr
