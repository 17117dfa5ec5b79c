"""The scale harness on a tiny graph: every task's row with positive time and memory, the edge
doubling, and unknown tasks refused."""

import pytest


@pytest.mark.slow
def test_scale_harness_fields():
    from lab.scale import ScaleConfig, run_scale

    cfg = ScaleConfig(
        sizes=(300,),
        tasks=("ffg2m", "llp"),
        avg_degree=6.0,
        hidden=16,
        chunk_size=100,
        llp_anchors=32,
        edge_doubling=300,
        threads=1,
    )
    res = run_scale(cfg, progress=False)
    rows = res["rows"]
    assert [(r["task"], r["avg_degree"]) for r in rows] == [("ffg2m", 6.0), ("llp", 6.0), ("ffg2m", 12.0)]
    for r in rows:
        assert "error" not in r, r
        assert r["nodes"] == 300 and r["edges"] > 0 and r["seconds"] > 0
        assert r["peak_rss_mib"] > 0 and r["inputs_rss_mib"] > 0 and r["peak_extra_mib"] >= 0
        assert isinstance(r["peak_reset"], bool)
    assert rows[2]["edges"] > 1.4 * rows[0]["edges"]  # duplicate pairs merge on a graph this small
    d = res["edge_doubling"]
    assert d["edges"] == [rows[0]["edges"], rows[2]["edges"]] and d["peak_rss_ratio"] > 0


def test_scale_config_rejects_unknown_task():
    from lab.scale import ScaleConfig

    with pytest.raises(ValueError, match="unknown scale task"):
        ScaleConfig(tasks=("kd", "gat"))
