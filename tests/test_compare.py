"""`g2m compare`: clear-margin test and paired difference by seed, checked by hand."""

import json
import statistics

import pytest
from typer.testing import CliRunner

from g2m.cli.main import app
from g2m.errors import G2MError
from g2m.evaluation.compare import compare_methods

MLP = [0.60, 0.70, 0.64, 0.66]
LLP = [0.64, 0.73, 0.69, 0.69]  # +3..+5 on every seed, but within the seed spread
RUNS = ([{"model": "teacher (sage)", "seed": 0, "hits@20": 0.9}]
        + [{"model": "mlp", "seed": s, "hits@20": v} for s, v in enumerate(MLP)]
        + [{"model": "llp", "seed": s, "hits@20": v} for s, v in reversed(list(enumerate(LLP)))])


def test_comparison_values():
    c = compare_methods(RUNS, "llp", "mlp")
    assert c.seeds == (0, 1, 2, 3)
    assert c.gap == pytest.approx(statistics.mean(LLP) - statistics.mean(MLP))
    assert c.bar == pytest.approx(2 * max(statistics.stdev(LLP), statistics.stdev(MLP)))
    diffs = [x - y for x, y in zip(LLP, MLP)]  # paired by seed, whatever the order of the runs
    assert c.paired_mean == pytest.approx(statistics.mean(diffs))
    assert c.paired_std == pytest.approx(statistics.stdev(diffs))
    assert not c.clear and c.paired_std < c.bar / 4
    assert "not > 2 std" in c.describe()
    wide = [{"model": "llp", "seed": s, "hits@20": v + 0.2} for s, v in enumerate(LLP)]
    assert compare_methods(RUNS[:5] + wide, "llp", "mlp").clear


def test_comparison_errors():
    with pytest.raises(ValueError, match="no runs of 'repr'"):
        compare_methods(RUNS, "repr", "mlp")
    with pytest.raises(ValueError, match="ran different seeds"):
        compare_methods(RUNS[:-1], "llp", "mlp")
    with pytest.raises(ValueError, match="has no 'mrr'"):
        compare_methods(RUNS, "llp", "mlp", "mrr")


def test_compare_cli(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps({"runs": RUNS}))
    res = CliRunner().invoke(app, ["compare", str(tmp_path)], catch_exceptions=False)
    assert res.exit_code == 0 and res.output.startswith("llp - mlp hits@20 = +3.75 (not > 2 std")
    res = CliRunner().invoke(app, ["compare", str(tmp_path), "--a", "glnn"])
    assert isinstance(res.exception, G2MError) and "no runs of 'glnn'" in str(res.exception)
