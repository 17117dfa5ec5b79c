"""Property-based tests of g2m's boundary (Hypothesis): random graph files and option values
through ``g2m run`` end to end. Each either works, writing a valid results.json, or ends in exactly
one ``error:`` line with exit status 2 and leaves no file behind; never a traceback.

The number of examples is bounded for ``make test`` (``G2M_HYPOTHESIS_EXAMPLES``, default 100), and
they are the same on every run (derandomised) unless ``G2M_HYPOTHESIS_RANDOM`` is set, for a longer hunt:
``G2M_HYPOTHESIS_RANDOM=1 G2M_HYPOTHESIS_EXAMPLES=2000 pytest tests/test_cli_properties.py``."""

from __future__ import annotations

import json
import os
import re
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("G2M_HYPOTHESIS_EXAMPLES", "100"))


FAULTS = ("none",) * 7 + (
    "nan feature",
    "label too high",
    "unlabelled in a mask",
    "edge past the last node",
    "empty train mask",
    "no edges",
    "only self-loops",
)


@st.composite
def graph_files(draw):
    """An npz graph of 3-24 nodes and 1-4 classes whose edges have self-loops, duplicates and one
    direction only, with isolated nodes, and (7 times in 14) one fault of :data:`FAULTS`."""
    n = draw(st.integers(3, 24))
    classes = draw(st.integers(1, 4))
    f = draw(st.integers(1, 5))
    x = np.array(
        draw(st.lists(st.floats(-5, 5, allow_nan=False), min_size=n * f, max_size=n * f)), dtype=np.float32
    ).reshape(n, f)
    y = np.array(draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)), dtype=np.int64)
    edges = np.array(
        draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=n, max_size=3 * n)),
        dtype=np.int64,
    ).reshape(-1, 2)
    part = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))  # train / val / test per node
    part[:3] = draw(st.permutations([0, 1, 2]))  # no split is empty unless a fault empties it
    fault = draw(st.sampled_from(FAULTS))
    node = draw(st.integers(0, n - 1))
    if fault == "nan feature":
        x[node, draw(st.integers(0, f - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    elif fault == "label too high":
        y[node] = classes + draw(st.integers(0, 3))
    elif fault == "unlabelled in a mask":
        y[node] = -1
    elif fault == "edge past the last node":
        edges = np.concatenate([edges, [[node, n + draw(st.integers(0, 3))]]])
    elif fault == "empty train mask":
        part[part == 0] = 1
    elif fault == "no edges":
        edges = np.zeros((0, 2), dtype=np.int64)
    elif fault == "only self-loops":
        edges = np.stack([edges[:, 0], edges[:, 0]], axis=1)
    masks = {f"{key}_mask": part == i for i, key in enumerate(("train", "val", "test"))}
    return {"node_features": x, "node_labels": y, "edges": edges, **masks}


#: tiny and huge values of every option, all valid
GOOD = {
    "--lam": ["0", "0.5", "1"],
    "--tau": ["1e-6", "1", "1e6"],
    "--student-hidden": ["1", "3", "20000"],
    "--chunk-size": ["1", "3", "1000000000"],
    "--epochs": ["1", "2"],
    "--patience": ["1", "1000000"],
    "--methods": ["mlp", "glnn,ffg2m", "ffg2m_safe", "krd", "hfd", "lfd,nosmog"],
}
#: one value out of range per option
BAD = {
    "--lam": ["-0.1", "1.5", "nan"],
    "--tau": ["0", "-1"],
    "--student-hidden": ["0", "-3"],
    "--chunk-size": ["0", "-5"],
    "--epochs": ["0"],
    "--patience": ["0"],
    "--methods": ["", "bogus", "glnn+"],
}


@st.composite
def options(draw):
    """Valid values of a few options, and (a fifth of the time) one value out of range."""
    chosen = {key: draw(st.sampled_from(GOOD[key])) for key in draw(st.sets(st.sampled_from(sorted(GOOD))))}
    if draw(st.integers(0, 4)) == 0:
        key = draw(st.sampled_from(sorted(BAD)))
        chosen[key] = draw(st.sampled_from(BAD[key]))
    return chosen


def _run(args: list[str], capsys) -> tuple[int, str]:
    from g2m.cli.main import main

    old = sys.argv
    sys.argv = ["g2m", *args]
    try:
        main()
        code = 0
    except SystemExit as stop:
        code = int(stop.code or 0)
    finally:
        sys.argv = old
    return code, capsys.readouterr().err


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="G2M_HYPOTHESIS_RANDOM" not in os.environ,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(graph=graph_files(), options=options())
def test_run_on_any_graph_file_works_or_fails_in_one_line(graph, options, tmp_path_factory, capsys):
    work = tmp_path_factory.mktemp("prop")
    np.savez(work / "g.npz", **graph)
    out = work / "out"
    args = [
        "run",
        "--graph",
        str(work / "g.npz"),
        "--seeds",
        "1",
        "--out",
        str(out),
        "--cache-dir",
        str(work / "cache"),
        "-q",
        "--device",
        "cpu",
    ]
    opts = {"--epochs": "2", "--methods": "mlp,glnn", **options}
    for key, value in opts.items():
        args += [key, value]
    code, err = _run(args, capsys)
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    event(
        "worked" if code == 0 else "refused: " + re.sub(r"g-[0-9a-f]{8}: ", "", errors[0][7:] if errors else "?")[:60]
    )
    if code == 0:
        result = json.loads((out / "results.json").read_text())
        assert result["runs"] and errors == []
    else:
        assert code == 2 and len(errors) == 1, err
        leftovers = [p for p in out.rglob("*")] if out.exists() else []
        assert leftovers == [], leftovers  # nothing half-written
