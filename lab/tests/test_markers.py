from pathlib import Path

from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]


def test_markers_rewrites_a_stale_block_and_leaves_a_current_one(tmp_path, monkeypatch):
    """A page's stale report and compare blocks become what their commands print; a second pass
    finds nothing stale, and --check then exits 0 (1 while one is stale)."""
    from lab.cli import app
    from lab.markers import refresh, rendered

    monkeypatch.chdir(REPO)  # the blocks' paths are from the repository root
    report = "g2m report docs/data/cora-glnn-transductive-sage.json"
    compare = "docs/data/link/cora-tuned.json"
    page = tmp_path / "page.md"
    page.write_text(
        f"# t\n\n<!-- {report} -->\nold table\n<!-- /g2m report -->\n\n"
        f"<!-- g2m compare {compare} -->\n```text\nold verdict\n```\n<!-- /g2m compare -->\n"
    )
    monkeypatch.setattr("lab.markers.pages", lambda repo: [page])
    assert CliRunner().invoke(app, ["markers", "--check"]).exit_code == 1
    assert refresh(page, write=False) == [report, f"g2m compare {compare}"]
    assert "old table" in page.read_text()  # --check writes nothing
    assert refresh(page) == [report, f"g2m compare {compare}"]
    text = page.read_text()
    assert rendered("g2m", "report", report.split(" ", 2)[2]) in text and "old" not in text
    assert "llp wins against mlp on hits@20" in text and refresh(page) == []
    assert CliRunner().invoke(app, ["markers", "--check"]).exit_code == 0
