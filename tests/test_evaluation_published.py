"""A run against its paper's published numbers: `g2m compare --published`, the recipes' tables."""

import json
import statistics
from pathlib import Path

import pytest
from typer.testing import CliRunner

from g2m.cli.main import app
from g2m.data.specs import read_recipe, recipe_names
from g2m.evaluation.published import (
    AgainstPublished,
    PublishedScore,
    PublishedTable,
    against_published,
    published_table,
    short_of_best,
)

TEACHER = [0.80, 0.82, 0.78]
GLNN = [0.79, 0.83, 0.81]
RUNS = [{"model": "teacher (sage)", "seed": s, "test": v, "test_ind": v - 0.1} for s, v in enumerate(TEACHER)] + [
    {"model": "glnn", "seed": s, "test": v} for s, v in enumerate(GLNN)
]
TABLE = PublishedTable(
    "glnn",
    "cora",
    "transductive",
    "a paper",
    {
        "teacher": {"test": PublishedScore(81.0, 0.5), "test_ind": PublishedScore(70.0)},
        "glnn": {"test": PublishedScore(82.0, 0.9)},
        "mlp": {"test": PublishedScore(60.0, 1.0)},
    },
)


def test_against_published_values_and_verdicts():
    got = against_published(RUNS, TABLE)
    assert got.seeds == (0, 1, 2)
    rows = {(m, metric): (mean, std, pub) for m, metric, mean, std, pub in got.rows}
    assert set(rows) == {("teacher", "test"), ("teacher", "test_ind"), ("glnn", "test")}  # no mlp runs: no row
    mean, std, _ = rows[("glnn", "test")]
    assert mean == pytest.approx(100 * statistics.mean(GLNN)) and std == pytest.approx(100 * statistics.stdev(GLNN))
    assert AgainstPublished.verdict(81.0, PublishedScore(82.0, 0.9)) == "no (0.10 outside)"
    assert AgainstPublished.verdict(81.1, PublishedScore(82.0, 0.9)) == "yes"  # exactly one std: inside
    assert AgainstPublished.verdict(83.0, PublishedScore(82.0, 0.9)) == "no (0.10 outside)"  # above counts too
    assert AgainstPublished.verdict(50.0, PublishedScore(82.0)) == "no std published"
    text = got.describe()
    assert "glnn         test      81.00 +- 2.00   82.00 +- 0.90   -1.00       no (0.10 outside)" in text
    assert "teacher      test_ind  70.00 +- 2.00   70.00           +0.00       no std published" in text
    with pytest.raises(ValueError, match="holds none of the methods a paper publishes"):
        against_published([{"model": "lfd", "seed": 0, "test": 0.5}], TABLE)


def test_short_of_best_names_the_gap_to_the_best_published_student():
    assert TABLE.best() == ("glnn", PublishedScore(82.0, 0.9))  # the teacher is not a student
    lines = short_of_best([("ffg2m", 80.5), ("lfd", 83.0), ("krd", 82.0)], TABLE).splitlines()
    assert lines == [
        "best published (a paper): glnn 82.00 +- 0.90",
        "  ffg2m: test 80.50, 1.50 below it",
        "  lfd: test 83.00, 1.00 above it",
        "  krd: test 82.00, level with it",
    ]
    with pytest.raises(ValueError, match="no student 'prod' score"):
        TABLE.best("prod")


def test_every_recipes_published_numbers_parse():
    """Every [<dataset>.published.<setting>] table of every shipped recipe reads, with a source."""
    found = 0
    for recipe in recipe_names():
        for dataset, tables in read_recipe(recipe).items():
            if isinstance(tables, dict) and "published" in tables:
                assert isinstance(tables["published"].get("source"), str), (recipe, dataset)
                for setting in (k for k, v in tables["published"].items() if isinstance(v, dict)):
                    table = published_table(recipe, dataset, setting)
                    assert table.scores and all(s.mean > 0 for m in table.scores.values() for s in m.values())
                    found += 1
    assert found >= 8  # glnn (cora, citeseer x 2 settings), nosmog and vqgraph (cora, citeseer)
    assert published_table("nosmog", "cora", "transductive").scores["nosmog"]["test"] == PublishedScore(83.04, 1.26)


def test_published_table_errors_name_what_exists():
    with pytest.raises(ValueError, match="records no published cora inductive numbers; it records citeseer "):
        published_table("nosmog", "cora", "inductive")
    with pytest.raises(ValueError, match="records no published pubmed transductive numbers"):
        published_table("glnn", "pubmed", "transductive")
    with pytest.raises(ValueError, match="unknown recipe 'glnnn'"):
        published_table("glnnn", "cora", "transductive")


def test_compare_published_cli(tmp_path):
    docs = Path(__file__).resolve().parents[1] / "docs" / "data"
    runner = CliRunner()
    nosmog = str(docs / "nosmog-citeseer-glnn-transductive.json")
    done = runner.invoke(app, ["compare", nosmog, "--published", "nosmog"])
    assert done.exit_code == 0, done.output
    assert "nosmog       test      72.29 +- 2.33   73.78 +- 1.54   -1.49       yes" in done.output
    files = [str(docs / "cora-glnn-transductive-sage.json"), str(docs / "nosmog-cora-glnn-transductive.json")]
    done = runner.invoke(app, ["compare", "--best", *files, "--published", "vqgraph"])
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[-2:] == [
        "best published (VQGraph (Yang et al., ICLR 2024)): vqgraph 83.93 +- 0.87",
        "  nosmog (nosmog): test 81.35, 2.58 below it",
    ]
    done = runner.invoke(app, ["compare", files[0], "--published", "krd"])
    assert done.exit_code != 0 and "recipe 'krd' records no published cora transductive numbers" in str(done.exception)
    done = runner.invoke(app, ["compare", files[0], "--published", "glnn", "--a", "glnn"])
    assert done.exit_code != 0 and "drop --a and --metric" in str(done.exception)
    done = runner.invoke(app, ["compare", files[0], "--published", "glnn", "--against", files[0]])
    assert done.exit_code != 0 and "choose one" in str(done.exception)
    bare = tmp_path / "old.json"
    bare.write_text(json.dumps({"runs": RUNS}))
    done = runner.invoke(app, ["compare", str(bare), "--published", "glnn"])
    assert done.exit_code != 0 and "names no dataset and setting" in str(done.exception)
