"""The DeepWalk position probe (NOSMOG's position features alone, a linear probe on Cora) and its
table, rendered by `python -m lab report --probe` from the probe files."""

import json

import pytest
import torch

from g2m.errors import G2MError
from lab.position_probe import position_probe, probe_table

pytest.importorskip("gensim")


@pytest.mark.slow
def test_a_linear_probe_on_coras_position_table_alone_reaches_60_percent(data_root, tmp_path):
    """Through the CLI: `python -m lab position-probe --out` writes the probe, `python -m lab report --probe`
    renders its row from the file."""
    from typer.testing import CliRunner

    from lab.cli import app as lab_app

    out = tmp_path / "cora-gensim.json"
    args = ["position-probe", "-d", "cora", "--seeds", "1", "--data-root", str(data_root), "--out", str(out)]
    done = CliRunner().invoke(lab_app, args)
    assert done.exit_code == 0, done.output
    result = json.loads(out.read_text())
    assert result["mean"] >= 0.60, result  # NOSMOG's settings: 64-d, 5 walks of 50, window 5, 1 epoch
    assert result["provenance"]["command"]
    table = CliRunner().invoke(lab_app, ["report", "--probe", str(out)])
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

    from lab.cli import app as lab_app

    with pytest.raises(G2MError, match="a.json: not a position-probe file"):
        probe_table([{"title": "a node results file"}], ["a.json"])
    with pytest.raises(G2MError, match="b.json: a second gensim probe of cora"):
        probe_table([_probe("cora", "gensim", [0.6]), _probe("cora", "gensim", [0.7])], ["a.json", "b.json"])
    bad = tmp_path / "x.json"
    bad.write_text("{")
    done = CliRunner().invoke(lab_app, ["report", "--probe", str(bad)])
    assert done.exit_code != 0 and "not a readable position-probe file" in str(done.exception)
    done = CliRunner().invoke(lab_app, ["report", "--probe", "--checks", "glnn", str(bad)])
    assert done.exit_code != 0 and "give --checks PROTOCOL" in str(done.exception)
