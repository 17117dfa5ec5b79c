"""The README is the front page (short) and the docs site holds the rest: the site's home page
is the README with its links made relative to docs/, and every relative link resolves."""

import json
import os
import re
import shlex
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_the_readme_is_a_front_page_of_at_most_200_lines():
    assert len((REPO / "README.md").read_text().splitlines()) <= 200


def test_the_site_home_page_is_the_readme():
    readme = (REPO / "README.md").read_text()
    assert (REPO / "docs" / "index.md").read_text() == readme.replace("](docs/", "]("), (
        "docs/index.md differs from README.md: copy the README there with 'docs/' dropped from its links"
    )


def test_every_relative_link_in_the_readme_and_docs_resolves():
    pages = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    broken = []
    for page in pages:
        for target in LINK.findall(page.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(REPO)} -> {target}")
    assert not broken


def test_every_page_is_in_the_site_navigation():
    nav = (REPO / "mkdocs.yml").read_text()
    pages = [p.relative_to(REPO / "docs").as_posix() for p in (REPO / "docs").rglob("*.md")]
    assert [p for p in pages if p not in nav] == []


def test_the_cli_reference_is_generated_from_the_app():
    """docs/cli-reference.md is what Typer generates from the app today (`make docs-cli`)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "typer", "g2m.cli.main", "utils", "docs", "--name", "g2m"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "80", "PATH": ""},
    )
    assert done.returncode == 0, done.stderr
    committed = (REPO / "docs" / "cli-reference.md").read_text()
    assert committed.strip() == done.stdout.strip(), "docs/cli-reference.md is stale: run `make docs-cli`"


def test_the_config_show_block_in_the_docs_is_current():
    from typer.testing import CliRunner

    from g2m.cli.main import app

    text = (REPO / "docs" / "cli.md").read_text().split("## The resolved configuration of a run", 1)[1]
    block = re.search(r"```text\n(.*?)```", text, re.S).group(1)
    done = CliRunner().invoke(app, ["config", "show", "-d", "cora", "-t", "sage", "--method", "ffg2m"])
    assert done.exit_code == 0 and block.strip() == done.output.strip()


REPORT = re.compile(r"<!-- (g2m|lab) report (.+?) -->\n(.*?)\n<!-- /\1 report -->", re.S)


def test_every_marked_results_table_is_what_g2m_report_renders_from_its_file(monkeypatch):
    """A table between `<!-- g2m report ARGS -->` and `<!-- /g2m report -->` must equal what
    `g2m report ARGS` renders from the committed results files (one file's table, or `--summary`
    of several; paths from the repository root), and one between `lab report` markers what
    `python -m lab report ARGS` renders (a protocol's checks, the probe): such numbers cannot go stale."""
    from typer.testing import CliRunner

    from g2m.cli.main import app
    from lab.cli import app as lab_app

    monkeypatch.chdir(REPO)
    pages = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    blocks = [(page, m.group(1), m.group(2), m.group(3)) for page in pages for m in REPORT.finditer(page.read_text())]
    assert len(blocks) >= 6 and {b[1] for b in blocks} == {"g2m", "lab"}
    for page, command, args, block in blocks:
        done = CliRunner().invoke(app if command == "g2m" else lab_app, ["report", *shlex.split(args)])
        assert done.exit_code == 0, done.output
        assert block.strip() == done.output.strip(), f"{page.relative_to(REPO)}: {command} report {args} is stale"


#: the tables of the docs that are not rendered between markers, by their header row, and why
UNMARKED_TABLES = {
    "| | teacher | MLP | GLNN | FF-G2M |": "the README's headline: checked cell by cell below",
    "| recipe | datasets | teacher | source |": "configuration: which recipe covers which datasets",
    "| dataset | lr | weight decay | dropout |": "configuration: a recipe's hyper-parameters",
    "| | official | g2m option |": "configuration: a paper's official setting beside g2m's option",
    "| option (StudentConfig) | what it does | source |": "configuration: the beyond-paper options",
    "| knob | value | why |": "configuration: the products-like generator's settings",
    "| split | official SAGE teacher (10 runs) | official MLP (3 runs) | official LLP (3 runs) |": (
        "the official LLP code's own numbers, run once outside this repository (said beside it)"
    ),
}


def test_every_results_table_in_the_docs_is_rendered_between_markers():
    """A Markdown table outside a `g2m report` / `g2m compare` marker is a configuration table or
    one listed above with its reason; a results table quoted by hand fails here. The changelog
    keeps earlier code's numbers, and the CLI reference is generated."""
    marked = re.compile(r"<!-- (g2m|lab) (report|compare) .+? -->\n.*?<!-- /\1 \2 -->", re.S)
    unlisted = []
    for page in [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]:
        if page.name in ("changelog.md", "cli-reference.md"):
            continue
        lines = marked.sub("", page.read_text()).splitlines()
        fenced = False
        for header, rule in zip(lines, lines[1:]):
            fenced ^= header.startswith("```")
            if not fenced and rule.startswith("|---") and header.strip() not in UNMARKED_TABLES:
                unlisted.append(f"{page.relative_to(REPO)}: {header.strip()}")
    assert unlisted == [], "render these from a results file between markers (or list them with a reason)"


#: the rows of the README's headline table that quote a results file
HEADLINE = {"Cora, g2m": "cora-glnn-transductive-sage.json", "CiteSeer, g2m": "citeseer-glnn-transductive-sage.json"}


def test_the_headline_table_quotes_its_results_files_and_the_published_numbers():
    """The README's table of teacher / MLP / GLNN / FF-G2M test accuracy equals the committed
    results files' means and standard deviations, and its paper rows the numbers the glnn recipe
    records as GLNN's Table 1, so that neither can go stale."""
    import json

    from g2m.evaluation.published import published_table
    from g2m.evaluation.report import summarize_runs

    text = (REPO / "README.md").read_text()
    for label, file in HEADLINE.items():
        rows = summarize_runs(json.loads((REPO / "docs" / "data" / file).read_text())["runs"])
        cells = {r["model"]: f"{100 * r['test_mean']:.2f} ± {100 * r['test_std']:.2f}" for r in rows}
        want = f"| {label} | " + " | ".join(cells[m] for m in ("teacher (sage)", "mlp", "glnn", "ffg2m")) + " |"
        assert want in text, f"README.md: the row '{label}' is not {want}"
    for dataset, label in (("cora", "Cora, GLNN paper"), ("citeseer", "CiteSeer, GLNN paper")):
        paper = published_table("glnn", dataset, "transductive").scores
        cells = [f"{paper[m]['test'].mean:.2f} ± {paper[m]['test'].std:.2f}" for m in ("teacher", "mlp", "glnn")]
        want = f"| {label} | " + " | ".join(cells) + " | |"
        assert want in text, f"README.md: the row '{label}' is not {want}"


def test_the_readmes_nosmog_numbers_are_its_results_file_and_the_published_ones():
    """The README's NOSMOG line: the committed results file's mean ± std and the number the
    nosmog recipe records as published."""
    import json

    from g2m.evaluation.published import published_table
    from g2m.evaluation.report import summarize_runs

    rows = summarize_runs(json.loads((REPO / "docs/data/nosmog-cora-glnn-transductive.json").read_text())["runs"])
    ours = next(r for r in rows if r["model"] == "nosmog")
    paper = published_table("nosmog", "cora", "transductive").scores["nosmog"]["test"]
    want = (
        f"Cora: {100 * ours['test_mean']:.2f} ± {100 * ours['test_std']:.2f} over {ours['seeds']} seeds against "
        f"the published {paper.mean:.2f} ± {paper.std:.2f}"
    )
    assert want in " ".join((REPO / "README.md").read_text().split())  # as test_api reads the README: unwrapped


def test_g2m_report_refuses_what_is_not_a_node_results_file(tmp_path):
    from typer.testing import CliRunner

    from g2m.cli.main import app

    bad = tmp_path / "r.json"
    bad.write_text("{not json")
    done = CliRunner().invoke(app, ["report", str(bad)])
    assert done.exit_code != 0 and "is not valid JSON" in str(done.exception)
    good = CliRunner().invoke(app, ["report", str(REPO / "docs/data/cora-glnn-transductive-sage.json")])
    assert good.exit_code == 0 and "| ffg2m | 86.00 ± 1.73 | 80.40 ± 1.35 |" in good.output


#: test files that test something other than one g2m module, and what
NOT_A_MODULE = {
    "test_docs.py": "the README and the docs site",
    "test_architecture.py": "the package's import layers (import-linter's contract in pyproject.toml)",
}


def _module_of(stem: str, package: str = "g2m") -> Path | None:
    """The module or package of ``package`` (g2m, or the lab) a test file's name starts with:
    ``test_losses_node_x`` names ``g2m/losses/node.py`` (``_x``: a qualifier), trying every split of
    the name at underscores."""
    import itertools

    parts = stem.removeprefix("test_").split("_")
    root = REPO / package
    for end in range(len(parts), 0, -1):  # the longest prefix that names a module wins
        words = parts[:end]
        for cuts in itertools.product(("/", "_"), repeat=len(words) - 1):
            name = words[0] + "".join(c + w for c, w in zip(cuts, words[1:]))
            for path in (root / f"{name}.py", root / name / "__init__.py"):
                if path.is_file():
                    return path
    return None


def test_tests_are_named_after_the_modules_they_test():
    unnamed = [
        f"{package}: {f.name}"
        for package, folder in (("g2m", REPO / "tests"), ("lab", REPO / "lab" / "tests"))
        for f in sorted(folder.glob("test_*.py"))
        if f.name not in NOT_A_MODULE and _module_of(f.stem, package) is None
    ]
    assert not unnamed, f"name these after the module they test (test_<package>_<module>.py): {unnamed}"
    assert _module_of("test_losses_node") == REPO / "g2m/losses/node.py"
    assert _module_of("test_node_table", "lab") == REPO / "lab/node_table.py"
    assert _module_of("test_training_node_student_minibatch").name == "node_student.py"


COMPARE = re.compile(r"<!-- g2m compare (.+?) -->\n```text\n(.*?)```\n<!-- /g2m compare -->", re.S)


@pytest.mark.slow
def test_every_marked_verdict_is_what_g2m_compare_prints(monkeypatch):
    """A block between `<!-- g2m compare ARGS -->` and `<!-- /g2m compare -->` must equal what
    `g2m compare ARGS` prints from the committed results files (paths from the repository root):
    verdicts and choices on validation cannot go stale."""
    from typer.testing import CliRunner

    from g2m.cli.main import app

    monkeypatch.chdir(REPO)
    pages = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    blocks = [(page, m.group(1), m.group(2)) for page in pages for m in COMPARE.finditer(page.read_text())]
    assert len(blocks) >= 2
    for page, args, block in blocks:
        done = CliRunner().invoke(app, ["compare", *shlex.split(args)])
        assert done.exit_code == 0, done.output
        assert block.strip() == done.output.strip(), f"{page.relative_to(REPO)}: g2m compare {args} is stale"


@pytest.mark.slow
def test_the_api_reference_renders_no_sphinx_role_raw(tmp_path):
    """The docstrings' Sphinx roles (``:class:`~g2m.x.Y```) become links or code on the site
    (docs/hooks/sphinx_roles.py), never literal text; a Returns section names its type."""
    import subprocess
    import sys

    mkdocs = Path(sys.executable).parent / "mkdocs"
    if not mkdocs.exists():
        pytest.skip("mkdocs is not installed (pip install '.[docs]')")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [str(mkdocs), "build", "--strict", "--quiet", "--site-dir", str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "reference" / "index.html").read_text()
    assert not re.findall(r":(?:class|func|meth|mod|attr|data|exc):", page)
    assert 'href="#g2m.api.DistillResult"' in page  # distill's Returns: a link to its type
    assert page.count('href="#g2m.') > 100  # roles to rendered objects are links


def test_every_recorded_best_student_is_validations_choice_in_its_results_file():
    """Each [best.<teacher>] of a shipped spec is what `g2m compare --best` chooses in the committed
    results file lab/best_sources.toml names for it (the specs name no docs file themselves)."""
    import tomllib

    from g2m.data.specs import _shipped_specs
    from g2m.evaluation.compare import best_on_validation

    sources = tomllib.loads((REPO / "lab" / "best_sources.toml").read_text())
    specs = _shipped_specs()
    checked = 0
    for teacher, files in sources.items():
        for name, source in files.items():
            entry = specs[name].best[teacher]
            result = json.loads((REPO / source).read_text())
            assert result["experiment"]["dataset"] == name and result["experiment"]["teacher"] == teacher, source
            chosen = best_on_validation(result["runs"]).method
            assert entry["method"] == chosen, f"{name}.toml [best.{teacher}] says {entry['method']}; {source}: {chosen}"
            checked += 1
    assert checked >= 13  # Cora, CiteSeer and the heterophilous graphs
    shipped = [path for path in (REPO / "datasets").rglob("*.toml") if '"docs/' in path.read_text()]
    assert not shipped, f"shipped specs that point into docs/: {shipped}"
