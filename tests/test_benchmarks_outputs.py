"""Bench outputs: every `g2m bench` command that writes a table stores it as a bench record, and
`g2m report --bench` renders the same table from that file alone (the docs' speed tables are
checked this way)."""

import json

import pytest
from conftest import REPO
from typer.testing import CliRunner

from g2m.cli.main import app


@pytest.mark.parametrize(
    "args, columns, rows",
    [
        (["rank-loss", "--anchors", "8", "--contexts", "4", "--repeats", "1", "--threads", "1"], "anchors", 1),
        (
            [
                "epoch",
                "-d",
                "csbm",
                "--model",
                "gcn",
                "--hidden",
                "16",
                "--layers",
                "2",
                "--repeats",
                "1",
                "--device",
                "cpu",
            ],
            "operands",
            2,
        ),
        (["sampling", "--nodes", "3000", "--batch", "16", "--batches", "2", "--samplers", "g2m"], "sampler", 1),
        (
            ["student-epoch", "--nodes", "6000", "--methods", "mlp,glnn", "--threads", "1", "--device", "cpu"],
            "method",
            2,
        ),
    ],
    ids=lambda a: a[0] if isinstance(a, list) else None,
)
def test_a_bench_table_is_rendered_again_from_its_record(tmp_path, args, columns, rows):
    out = tmp_path / "out"
    done = CliRunner().invoke(app, ["bench", *args, "--out", str(out)], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    record = json.loads((out / f"{args[0]}.json").read_text())
    assert record["kind"] == "bench" and record["columns"][0] == columns and len(record["rows"]) == rows
    table = (out / f"{args[0]}.md").read_text()
    again = CliRunner().invoke(app, ["report", "--bench", str(out / f"{args[0]}.json")])
    assert again.exit_code == 0 and again.output.strip() == table.strip()
    assert table.strip() in done.output


@pytest.mark.slow
def test_rank_loss_and_edge_memory_measure_what_they_name(tmp_path):
    done = CliRunner().invoke(app, ["bench", "rank-loss", "--anchors", "16", "--contexts", "8", "--out", str(tmp_path)])
    row = json.loads((tmp_path / "rank-loss.json").read_text())["rows"][0]
    assert (
        done.exit_code == 0
        and row["pairs"] == 16 * 8 * 7 // 2
        and row["speedup"] == row["naive_s"] / row["vectorised_s"]
    )
    done = CliRunner().invoke(
        app,
        [
            "bench",
            "edge-memory",
            "--nodes",
            "100",
            "--edges",
            "1000",
            "--classes",
            "4",
            "--chunk-size",
            "0,100",
            "--loss",
            "lfd",
            "--out",
            str(tmp_path),
        ],
    )
    rows = json.loads((tmp_path / "edge-memory.json").read_text())["rows"]
    assert (
        done.exit_code == 0 and [r["chunk_size"] for r in rows] == [None, 100] and {r["loss"] for r in rows} == {"lfd"}
    )


def test_g2m_report_bench_refuses_a_file_that_is_not_a_bench_output(tmp_path):
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"runs": [], "title": "t"}))
    done = CliRunner().invoke(app, ["report", "--bench", str(results)])
    assert done.exit_code == 1 and "not a `g2m bench` output" in str(done.exception)
    done = CliRunner().invoke(app, ["report", "--bench", "--probe", str(results)])
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


def test_the_torchrun_script_of_student_epoch_writes_the_same_record(tmp_path, monkeypatch, capsys):
    """`python g2m/benchmarks/student_epoch.py --out DIR` (what torchrun runs): rank 0 writes the
    record with the number of processes in its summary line."""
    from g2m.benchmarks import student_epoch

    argv = ["student_epoch.py", "--nodes", "6000", "--methods", "mlp", "--out", str(tmp_path)]
    monkeypatch.setattr("sys.argv", argv)
    student_epoch.main()
    record = json.loads((tmp_path / "student-epoch.json").read_text())
    assert record["processes"] == 1 and [r["method"] for r in record["rows"]] == ["mlp"]
    assert "1 process(es)" in record["summary"] and record["provenance"]["command"].endswith(str(tmp_path))
    again = CliRunner().invoke(app, ["report", "--bench", str(tmp_path / "student-epoch.json")])
    assert again.exit_code == 0 and "| mlp |" in again.output


def _bench_commands_with_out():
    import typer

    bench = typer.main.get_command(app).commands["bench"]
    return sorted(name for name, cmd in bench.commands.items() if any("--out" in p.opts for p in cmd.params))


@pytest.mark.parametrize("name", _bench_commands_with_out())
def test_every_bench_refuses_an_output_folder_it_cannot_write_before_measuring(tmp_path, name):
    """A long benchmark must not run for minutes and then fail to write: `--out` under a file is
    refused first, with one error naming it."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    extra = ["-s", str(tmp_path / "no-student")] if name == "serving" else []
    done = CliRunner().invoke(app, ["bench", name, *extra, "--out", str(blocker / "out.json")])
    assert done.exit_code != 0 and "is a file" in str(done.exception), (name, done.output)


def test_g2m_report_bench_names_a_record_without_its_columns_and_edge_memory_wants_a_chunk_size(tmp_path):
    record = tmp_path / "old.json"
    record.write_text(json.dumps({"kind": "bench", "bench": "latency", "rows": []}))
    done = CliRunner().invoke(app, ["report", "--bench", str(record)])
    assert done.exit_code == 1 and "without its columns or provenance" in str(done.exception)
    done = CliRunner().invoke(app, ["bench", "edge-memory", "--chunk-size", "", "--out", str(tmp_path / "e")])
    assert done.exit_code == 2 and "give at least one" in done.output and not (tmp_path / "e").exists()


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
