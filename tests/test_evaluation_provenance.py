"""Provenance: a recorded command reads as one a user can run again."""

import pytest

from g2m.evaluation.provenance import g2m_argv, provenance


@pytest.mark.parametrize(
    "program",
    ["/venv/bin/g2m", "g2m", "/tmp/checkout/g2m/cli/main.py", "/site-packages/g2m/__main__.py"],
)
def test_the_g2m_program_is_recorded_as_g2m(program):
    assert g2m_argv([program, "bench", "latency", "--threads", "1"]) == ["g2m", "bench", "latency", "--threads", "1"]


def test_another_program_is_recorded_as_it_was_run(monkeypatch):
    assert g2m_argv(["lab/student_epoch.py", "--nodes", "10"])[0] == "lab/student_epoch.py"
    monkeypatch.setattr("sys.argv", ["/tmp/x/g2m/cli/main.py", "report", "--bench", "a b.json"])
    assert provenance()["command"] == "g2m report --bench 'a b.json'"
    assert provenance(["g2m", "run"])["command"] == "g2m run"


def test_provenance_records_which_extensions_were_installed(monkeypatch):
    """The engines `auto` picks (torch-cluster's walks, PyG's sampler) depend on what is installed:
    a results file says which were."""
    from importlib import metadata

    real = metadata.version

    def version(name):
        if name == "torch-cluster":
            raise metadata.PackageNotFoundError(name)
        if name == "torch-scatter":
            return "9.9"
        return real(name)

    monkeypatch.setattr(metadata, "version", version)
    ext = provenance(["g2m", "run"])["extensions"]
    assert set(ext) == {"torch_scatter", "torch_sparse", "torch_cluster", "pyg_lib"}
    assert ext["torch_cluster"] is None and ext["torch_scatter"] == "9.9"


def test_provenance_records_what_auto_resolves_to(monkeypatch):
    """NOSMOG's sampled teacher draws another random stream under PyG's sampler than under g2m's: a
    results file names the engines. Walks are g2m's whether or not torch-cluster is installed."""
    import g2m.data.neighbour_sampler as sampler
    import g2m.data.sampling as sampling

    for pyg, cluster in [(False, True), (True, True), (True, False)]:
        monkeypatch.setattr(sampler, "has_pyg_sampler", lambda pyg=pyg: pyg)
        monkeypatch.setattr(sampling, "has_torch_cluster", lambda cluster=cluster: cluster)
        engines = provenance(["g2m", "run"])["auto_engines"]
        assert engines == {"sampler": "pyg" if pyg else "g2m", "walker": "g2m"}


def test_the_commit_is_the_one_the_run_started_on(monkeypatch):
    """A run records the code that ran (the commit when it started), and says so when the checkout
    changed under it before it wrote its results."""
    import g2m.evaluation.provenance as prov

    monkeypatch.setattr(prov, "git_commit", lambda: "bbb")
    assert provenance(["g2m"])["commit"] == "bbb" and "commit_at_end" not in provenance(["g2m"])
    record = provenance(["g2m"], started_at="aaa")
    assert record["commit"] == "aaa" and record["commit_at_end"] == "bbb"
    assert "commit_at_end" not in provenance(["g2m"], started_at="bbb")
