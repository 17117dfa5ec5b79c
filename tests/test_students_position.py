"""NOSMOG's DeepWalk position table: it learns the graph's structure (a linear probe on the table
alone), deterministically in its seed across processes, and the old learner stays selectable."""

import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest
import torch

from g2m.benchmarks.position_probe import position_probe, probe_table
from g2m.data.csbm import csbm_tensors
from g2m.errors import G2MError
from g2m.students.position import DeepWalkSettings, deepwalk

pytest.importorskip("gensim")


@pytest.mark.slow
def test_a_linear_probe_on_coras_position_table_alone_reaches_60_percent(data_root, tmp_path):
    """Through the CLI: `g2m bench position-probe --out` writes the probe, `g2m report --probe`
    renders its row from the file."""
    from typer.testing import CliRunner

    from g2m.cli.main import app

    out = tmp_path / "cora-gensim.json"
    args = ["bench", "position-probe", "-d", "cora", "--seeds", "1", "--data-root", str(data_root), "--out", str(out)]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    result = json.loads(out.read_text())
    assert result["mean"] >= 0.60, result  # NOSMOG's settings: 64-d, 5 walks of 50, window 5, 1 epoch
    assert result["provenance"]["command"]
    table = CliRunner().invoke(app, ["report", "--probe", str(out)])
    assert table.exit_code == 0, table.output
    row = table.output.strip().splitlines()[-1]
    assert row.startswith("| cora (64-d, 5 walks of 50, window 5, 1 epoch) | ")
    assert f"{100 * result['mean']:.2f} ± 0.00" in row
    assert position_probe("cora", data_root, "torch", seeds=1)["mean"] < 0.30  # g2m <= 0.1's learner


def _probe(dataset: str, backend: str, scores: list[float]) -> dict:
    settings = {"dim": 16, "walk_length": 50, "walks_per_node": 3, "window": 5, "epochs": 5}
    mean, std = sum(scores) / len(scores), float(torch.tensor(scores).std(unbiased=False))
    return dict(kind="position-probe", dataset=dataset, backend=backend, settings=settings, mean=mean, std=std,
                test_accuracy=scores, majority_class=0.231)  # fmt: skip


def test_the_probe_table_has_one_row_per_dataset_and_one_column_per_backend():
    table = probe_table([_probe("citeseer", "gensim", [0.4, 0.42]), _probe("citeseer", "torch", [0.2, 0.22])])
    assert table.splitlines() == [
        "| dataset (DeepWalk settings) | torch | gensim | majority class |",
        "|---|---|---|---|",
        "| citeseer (16-d, 3 walks of 50, window 5, 5 epochs) | 21.00 ± 1.00 | 41.00 ± 1.00 | 23.1 |",
    ]


def test_the_probe_table_refuses_other_files_and_a_second_probe_of_the_same_backend(tmp_path):
    from typer.testing import CliRunner

    from g2m.cli.main import app

    with pytest.raises(G2MError, match="a.json: not a position-probe file"):
        probe_table([{"title": "a node results file"}], ["a.json"])
    with pytest.raises(G2MError, match="b.json: a second gensim probe of cora"):
        probe_table([_probe("cora", "gensim", [0.6]), _probe("cora", "gensim", [0.7])], ["a.json", "b.json"])
    bad = tmp_path / "x.json"
    bad.write_text("{")
    done = CliRunner().invoke(app, ["report", "--probe", str(bad)])
    assert done.exit_code != 0 and "not a readable position-probe file" in str(done.exception)
    done = CliRunner().invoke(app, ["report", "--probe", "--summary", str(bad)])
    assert done.exit_code != 0 and "choose one" in str(done.exception)


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
