"""The end-to-end link run on a tiny synthetic graph: four stages in their own processes, each
with its wall time, peak RSS and scores, the students reading the teacher the first stage cached."""

import pytest


@pytest.mark.slow
def test_link_e2e_runs_every_stage_as_a_user_does(tmp_path):
    from lab.link_e2e import LinkE2EConfig, link_e2e_summary, run_link_e2e

    result = run_link_e2e(LinkE2EConfig(nodes=400, degree=10.0, epochs=2), tmp_path)
    rows = {r["stage"]: r for r in result["rows"]}
    assert list(rows) == ["graph", "teacher", "mlp", "llp"]
    assert all(r["seconds"] > 0 and r["peak_rss_gib"] > 0.05 for r in rows.values())
    assert rows["graph"]["nodes"] == 400 and rows["graph"]["edges"] > 400
    for stage in ("teacher", "mlp", "llp"):  # the students' stages raise if they trained a teacher of their own
        assert rows[stage]["epochs"] == 2 and 0.0 <= rows[stage]["rocauc"] <= 1.0
    assert "400 nodes" in link_e2e_summary(result)


def test_link_e2e_config_is_checked():
    from lab.link_e2e import LinkE2EConfig

    with pytest.raises(ValueError, match="nodes must be at least 100"):
        LinkE2EConfig(nodes=10)
