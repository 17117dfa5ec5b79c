"""The sparse operands' step time against edge_index, and the samplers' costs, on a tiny graph."""

from g2m.data.csbm import products_like_graph


def test_operand_and_sampling_costs_are_measured():
    tiny_graph = products_like_graph(400, avg_degree=8)
    from lab.operands import epoch_times, sampling_costs

    res = epoch_times(tiny_graph, "sage", hidden=16, layers=2, repeats=1)
    assert set(res["seconds_per_step"]) == {"edge_index", "sparse"}
    assert all(v > 0 for v in res["seconds_per_step"].values()) and res["speedup"] > 0
    rows = sampling_costs(tiny_graph, (5, 3), batch=8, samplers=("g2m",), batches=2)
    assert rows[0]["sampler"] == "g2m" and rows[0]["ms_p50"] > 0
    assert 8 < rows[0]["nodes_mean"] <= 8 * (1 + 5 + 15) and rows[0]["edges_mean"] > 0
