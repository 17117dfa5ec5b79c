"""Optional packages: what g2m run needs is the core install; the rest are extras, and a command
that needs a missing one says which extra installs it."""

import sys

import pytest

from g2m.errors import G2MError, require


def test_require_names_the_extra_of_a_missing_package(monkeypatch):
    assert require("json", "a test", "none").dumps([1]) == "[1]"
    monkeypatch.setitem(sys.modules, "optuna", None)  # as if it were not installed
    with pytest.raises(G2MError, match=r"g2m tune needs optuna: pip install 'g2m\[tune\]'"):
        require("optuna", "g2m tune", "tune")


def test_tables_render_without_the_plotting_extra(monkeypatch):
    from g2m.benchmarks.outputs import _pyplot, bench_record, bench_table

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    record = bench_record("latency", {"rows": [{"batch": 1, "ms": 0.5}]}, ["batch", "ms"], None)
    assert "| 1 | 0.5 |" in bench_table(record)
    with pytest.raises(G2MError, match=r"pip install 'g2m\[plots\]'"):
        _pyplot()


def test_tune_says_which_extra_it_needs(monkeypatch, tmp_path):
    from g2m.experiments.tune import run_study

    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(G2MError, match=r"g2m\[tune\]"):
        run_study("s", [], lambda params, report: 0.0, 1, tmp_path / "study.db", 0, print)
