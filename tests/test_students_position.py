"""NOSMOG's DeepWalk position table: it learns the graph's structure (a linear probe on the table
alone), deterministically in its seed across processes, and the old learner stays selectable."""

import os
import subprocess
import sys
from dataclasses import replace

import pytest
import torch

from g2m.data.csbm import csbm_tensors
from g2m.students.position import DeepWalkSettings, deepwalk

pytest.importorskip("gensim")


@pytest.mark.slow
def test_the_gensim_table_is_the_same_in_every_process():
    """gensim seeds each word's vector from a hash of its name: a stable one, not Python's
    per-process string hash, so two processes with different PYTHONHASHSEED agree."""
    code = (
        "import torch; from g2m.data.csbm import csbm_tensors; from g2m.students.position import "
        "DeepWalkSettings, deepwalk; x, y, e = csbm_tensors(200, 4, 6, 0.8, 1.0, 8, 0); "
        "t = deepwalk(torch.cat([e, e.flip(0)], 1), 200, DeepWalkSettings(dim=8, walk_length=10, walks_per_node=2, "
        "window=3), seed=3); print(float(t.sum()), float(t.abs().sum()))"
    )
    outs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONHASHSEED": h, "OMP_NUM_THREADS": "1"},
        ).stdout
        for h in ("1", "2")
    ]
    assert outs[0] and outs[0] == outs[1]


def test_the_table_depends_on_its_seed_and_settings():
    x, y, e = csbm_tensors(200, 4, 6, 0.8, 1.0, 8, 0)
    e = torch.cat([e, e.flip(0)], 1)
    s = DeepWalkSettings(dim=8, walk_length=10, walks_per_node=2, window=3)
    a, b = deepwalk(e, 200, s, seed=0), deepwalk(e, 200, s, seed=1)
    assert a.shape == (200, 8) and not torch.equal(a, b)
    assert torch.equal(a, deepwalk(e, 200, s, seed=0))
    assert deepwalk(e, 200, replace(s, backend="random"), seed=0).std() > 0.9  # the control: N(0, 1) rows
    with pytest.raises(ValueError, match="backend must be one of gensim, torch, random"):
        DeepWalkSettings(backend="word2vec")
