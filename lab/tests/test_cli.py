"""The lab's commands: each one that writes a table stores it as a bench record, and `g2m report
--bench` renders the same table from that file alone (the docs' speed tables are checked this way);
every command that measures refuses an output folder it cannot write before measuring."""

import json

import pytest
from typer.testing import CliRunner

from g2m.cli.main import app
from lab.cli import app as lab_app


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
    done = CliRunner().invoke(lab_app, [*args, "--out", str(out)], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    record = json.loads((out / f"{args[0]}.json").read_text())
    assert record["kind"] == "bench" and record["columns"][0] == columns and len(record["rows"]) == rows
    table = (out / f"{args[0]}.md").read_text()
    again = CliRunner().invoke(app, ["report", "--bench", str(out / f"{args[0]}.json")])
    assert again.exit_code == 0 and again.output.strip() == table.strip()
    assert table.strip() in done.output


@pytest.mark.slow
def test_rank_loss_and_edge_memory_measure_what_they_name(tmp_path):
    done = CliRunner().invoke(lab_app, ["rank-loss", "--anchors", "16", "--contexts", "8", "--out", str(tmp_path)])
    row = json.loads((tmp_path / "rank-loss.json").read_text())["rows"][0]
    assert (
        done.exit_code == 0
        and row["pairs"] == 16 * 8 * 7 // 2
        and row["speedup"] == row["naive_s"] / row["vectorised_s"]
    )
    done = CliRunner().invoke(
        lab_app,
        [
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


def test_the_torchrun_script_of_student_epoch_writes_the_same_record(tmp_path, monkeypatch, capsys):
    """`python lab/student_epoch.py --out DIR` (what torchrun runs): rank 0 writes the
    record with the number of processes in its summary line."""
    from lab import student_epoch

    argv = ["student_epoch.py", "--nodes", "6000", "--methods", "mlp", "--out", str(tmp_path)]
    monkeypatch.setattr("sys.argv", argv)
    student_epoch.main()
    record = json.loads((tmp_path / "student-epoch.json").read_text())
    assert record["processes"] == 1 and [r["method"] for r in record["rows"]] == ["mlp"]
    assert "1 process(es)" in record["summary"] and record["provenance"]["command"].endswith(str(tmp_path))
    again = CliRunner().invoke(app, ["report", "--bench", str(tmp_path / "student-epoch.json")])
    assert again.exit_code == 0 and "| mlp |" in again.output


def _bench_commands_with_out():
    """Every command that measures and writes ``--out``: g2m's benches, and the lab's."""
    import typer

    groups = {"g2m": typer.main.get_command(app).commands["bench"], "lab": typer.main.get_command(lab_app)}
    return sorted(
        (where, name)
        for where, group in groups.items()
        for name, cmd in group.commands.items()
        if any("--out" in p.opts for p in cmd.params)
    )


@pytest.mark.parametrize(("where", "name"), _bench_commands_with_out())
def test_every_bench_refuses_an_output_folder_it_cannot_write_before_measuring(tmp_path, where, name):
    """A long benchmark must not run for minutes and then fail to write: `--out` under a file is
    refused first, with one error naming it."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    extra = ["-s", str(tmp_path / "no-student")] if name == "serving" else []
    command = ["bench", name] if where == "g2m" else [name]
    done = CliRunner().invoke(
        app if where == "g2m" else lab_app, [*command, *extra, "--out", str(blocker / "out.json")]
    )
    assert done.exit_code != 0 and "is a file" in str(done.exception), (name, done.output)


def test_edge_memory_wants_a_chunk_size(tmp_path):
    done = CliRunner().invoke(lab_app, ["edge-memory", "--chunk-size", "", "--out", str(tmp_path / "e")])
    assert done.exit_code == 2 and "give at least one" in done.output and not (tmp_path / "e").exists()


def test_report_checks_a_protocols_claims_on_its_files():
    """`python -m lab report --checks P FILES`: `g2m report --summary`'s table, then the protocol's
    checks recomputed from the files; misuse refused."""
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "docs" / "data"
    cora, citeseer = str(docs / "cora-glnn-transductive-sage.json"), str(docs / "citeseer-glnn-transductive-sage.json")
    done = CliRunner().invoke(lab_app, ["report", "--checks", "glnn", cora, citeseer])
    assert done.exit_code == 0, done.output
    summary = CliRunner().invoke(app, ["report", "--summary", cora, citeseer])
    assert done.output.startswith(summary.output.rstrip())
    lines = done.output.splitlines()
    assert "- PASS: cora GLNN 79.88 >= paper 80.54 - 1.35" in lines
    assert "- PASS: citeseer FF-G2M 72.53 >= GLNN 71.85" in lines
    for args, message in [
        (["--checks", "glnnn", cora], "unknown --checks 'glnnn'"),
        ([cora], "give --checks PROTOCOL"),
    ]:
        done = CliRunner().invoke(lab_app, ["report", *args])
        assert done.exit_code != 0 and message in str(done.exception), (args, done.output)
