"""Commands reading a results file name the file and the field that is wrong."""

from __future__ import annotations

import json

import pytest
from processes import g2m_process

#: the full tier only (make test-fast leaves these out): g2m processes, end-to-end runs
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def good_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("good")
    res = g2m_process(
        "run",
        "-d",
        "csbm",
        "--methods",
        "mlp,ffg2m",
        "--seeds",
        "2",
        "--epochs",
        "5",
        "--out",
        out,
        "--cache-dir",
        out / "cache",
        "-q",
    )
    assert res.returncode == 0, res.stderr
    return json.loads((out / "results.json").read_text())


def _set(path, value):
    def damage(r):
        target = r
        for key in path[:-1]:
            target = target[key]
        if value is _DROP:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return r

    return damage


_DROP = object()


@pytest.mark.parametrize(
    "damage,message",
    [
        (_set(["runs", 1, "test"], None), "runs[1].test is null"),
        (lambda r: [r], "the top level is a JSON list, not an object"),
        (_set(["runs"], _DROP), "runs is missing"),
        (_set(["runs", 0, "seed"], _DROP), "runs[0].seed is missing or not an integer"),
        (_set(["experiment"], []), "experiment must be an object naming its dataset"),
    ],
)
@pytest.mark.parametrize("command", ["compare", "leaderboard", "merge"])
def test_commands_reading_results_name_the_file_and_field(good_result, damage, message, command, tmp_path):
    bad = tmp_path / "results.json"
    bad.write_text(json.dumps(damage(json.loads(json.dumps(good_result)))))
    args = {
        "compare": ["compare", str(bad)],
        "leaderboard": ["leaderboard", str(bad), "--min-runs", "1"],
        "merge": ["merge", str(bad), str(bad), "--out", str(tmp_path / "m")],
    }[command]
    res = g2m_process(*args, timeout=120)
    assert (
        res.returncode == 2
        and res.stderr.strip() == f"error: {bad}: {message}; not a results.json written by g2m run / g2m merge"
    )
