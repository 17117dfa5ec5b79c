"""Bench outputs: `g2m report --bench` renders a bench record's table from the file alone, and
refuses what is not one (the records themselves: lab/tests/test_cli.py)."""

import json

from typer.testing import CliRunner

from conftest import REPO
from g2m.cli.main import app


def test_g2m_report_bench_refuses_a_file_that_is_not_a_bench_output(tmp_path):
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"runs": [], "title": "t"}))
    done = CliRunner().invoke(app, ["report", "--bench", str(results)])
    assert done.exit_code == 1 and "not a `g2m bench` output" in str(done.exception)
    done = CliRunner().invoke(app, ["report", "--bench", "--summary", str(results)])
    assert done.exit_code == 1 and "choose one" in str(done.exception)


def test_bench_table_cells_have_three_significant_figures_and_no_exponent():
    from g2m.benchmarks.outputs import number, rows_markdown

    assert [number(v) for v in (0.0876, 14.3333, 1089.4, 86010.2, 1024, "full", None, float("nan"))] == [
        "0.0876",
        "14.3",
        "1,089",
        "86,010",
        "1024",
        "full",
        "",
        "",
    ]
    assert rows_markdown([{"a": 1.5, "b": "x"}], ["a", "b"]) == "| a | b |\n|---|---|\n| 1.5 | x |\n"


def test_g2m_report_bench_names_a_record_without_its_columns(tmp_path):
    record = tmp_path / "old.json"
    record.write_text(json.dumps({"kind": "bench", "bench": "latency", "rows": []}))
    done = CliRunner().invoke(app, ["report", "--bench", str(record)])
    assert done.exit_code == 1 and "without its columns or provenance" in str(done.exception)


def test_g2m_report_bench_where_keeps_the_rows_named_and_says_so():
    record = str(REPO / "docs" / "data" / "bench" / "scale.json")
    done = CliRunner().invoke(app, ["report", "--bench", record, "--where", "task=kd,hfd"])
    assert done.exit_code == 0, done.output
    lines = [line for line in done.output.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert lines and {line.split("|")[3].strip() for line in lines} == {"kd", "hfd"}
    assert "(rows with task in hfd, kd)" in done.output.splitlines()[0]
    for args, words in (
        (["--where", "task"], "give COLUMN=VALUE"),
        (["--where", "colour=red"], "no column 'colour'"),
    ):
        done = CliRunner().invoke(app, ["report", "--bench", record, *args])
        assert done.exit_code != 0 and words in str(done.exception), done.output
    done = CliRunner().invoke(app, ["report", record, "--where", "task=kd"])
    assert done.exit_code != 0 and "--where goes with --bench" in str(done.exception)
