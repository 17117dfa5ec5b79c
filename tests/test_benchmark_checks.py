from g2m.benchmarks.link_table import check_link_cell
from g2m.benchmarks.node_table import check_node_cell


def test_node_checks():
    rows = [{"model": "teacher (gcn)", "test_mean": 0.80}, {"model": "mlp", "test_mean": 0.60},
            {"model": "ffg2m", "test_mean": 0.81}]
    assert check_node_cell(("cora", "gcn", "transductive"), rows) == [
        "PASS: cora/gcn FF-G2M 81.00 >= teacher 80.00",
        "PASS: cora/gcn FF-G2M - MLP = 21.00 points (>= 15)",
    ]
    rows[2]["test_mean"] = 0.70
    assert [c[:4] for c in check_node_cell(("cora", "gcn", "transductive"), rows)] == ["FAIL", "FAIL"]
    assert check_node_cell(("cora", "gcn", "inductive"), rows) == []


def test_link_checks():
    rows = [{"model": "mlp", "hits@20_mean": 0.60, "hits@20_std": 0.02},
            {"model": "llp", "hits@20_mean": 0.66, "hits@20_std": 0.03}]
    assert check_link_cell(("cora", "sage", "transductive"), rows)[0].startswith("PASS")
    rows[1]["hits@20_std"] = 0.04  # gap 6 points, 2 std = 8 points
    assert check_link_cell(("cora", "sage", "transductive"), rows)[0].startswith("FAIL")
