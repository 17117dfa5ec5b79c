"""Heuristic link teachers (EHDM): CN, AA and RA against their dense definitions, and a student
they teach through LLP's losses."""

import pytest
import torch

from g2m.config import LinkStudentConfig
from g2m.data.csbm import csbm_tensors
from g2m.data.graph import make_graph
from g2m.data.link_splits import make_link_split
from g2m.teachers.heuristic import HeuristicScorer
from g2m.training.link import distill_link_student, evaluate_heuristic


def _graph(seed=0, n=30, m=70):
    g = torch.Generator().manual_seed(seed)
    e = torch.randint(0, n, (2, m), generator=g)
    e = torch.cat([e, e.flip(0), torch.tensor([[3, 3], [3, 3]])], 1)  # both directions, duplicates, a self-loop
    return e, n


def dense_reference(kind, edge_index, n, u, v):
    a = torch.zeros(n, n, dtype=torch.float64)
    a[edge_index[0], edge_index[1]] = 1.0
    a.fill_diagonal_(0.0)
    d = a.sum(1)
    w = {"cn": torch.ones(n, dtype=torch.float64), "aa": torch.where(d > 1, 1 / d.clamp_min(2).log(), 0.0)}
    w["ra"] = torch.where(d > 0, 1 / d.clamp_min(1), 0.0)
    return ((a[u] * a[v]) * w[kind]).sum(1).float()


@pytest.mark.parametrize("kind", ["cn", "aa", "ra"])
@pytest.mark.parametrize("seed", [0, 1])
def test_scores_equal_the_dense_definition(kind, seed):
    e, n = _graph(seed)
    scorer = HeuristicScorer(kind, e, n)
    u, v = torch.arange(n).repeat_interleave(n), torch.arange(n).repeat(n)  # every ordered pair
    out = scorer(u, v)
    torch.testing.assert_close(out, dense_reference(kind, e, n, u, v))
    assert out.abs().sum() > 0  # the graph has common neighbours: the check is not vacuous
    torch.testing.assert_close(scorer.score_pairs(torch.stack([v, u])), out)  # symmetric


def test_isolated_nodes_and_an_empty_batch_score_zero():
    scorer = HeuristicScorer("aa", torch.tensor([[0, 1], [1, 0]]), 4)
    assert scorer(torch.tensor([2, 0]), torch.tensor([3, 2])).tolist() == [0.0, 0.0]
    assert scorer(torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long)).shape == (0,)


def test_refuses_bad_input():
    e, n = _graph()
    with pytest.raises(ValueError, match="unknown link heuristic"):
        HeuristicScorer("katz", e, n)
    with pytest.raises(ValueError, match="outside"):
        HeuristicScorer("cn", e, 5)
    with pytest.raises(ValueError, match=r"\[2, E\]"):
        HeuristicScorer("cn", e[0], n)
    with pytest.raises(ValueError, match="one shape"):
        HeuristicScorer("cn", e, n)(torch.tensor([0, 1]), torch.tensor([1]))


@pytest.fixture(scope="module")
def csbm_split():
    x, y, edges = csbm_tensors(num_nodes=400, num_classes=3, avg_degree=10, num_features=16, feature_signal=2.0, seed=0)
    graph = make_graph("csbm", x, y, edges, int(y.max()) + 1)
    return graph, make_link_split(graph, "transductive", 0)


def test_a_heuristic_teaches_an_llp_student(csbm_split):
    graph, split = csbm_split
    cn = HeuristicScorer("cn", split.message_edge_index, graph.num_nodes)
    teacher = evaluate_heuristic(cn, split)
    assert set(teacher) >= {"val", "hits@20", "mrr", "rocauc"}
    cfg = LinkStudentConfig(method="llp", epochs=60, patience=60, hidden=32, anchors_per_epoch=0)
    out = distill_link_student(graph, split, None, cn, cfg, seed=0, progress=False, device="cpu")
    assert out.scores["rocauc"] > 0.6  # learns: chance is 0.5 (0.69 when written)


def test_a_heuristic_refuses_what_needs_a_gnn(csbm_split):
    graph, split = csbm_split
    cn = HeuristicScorer("cn", split.message_edge_index, graph.num_nodes)
    with pytest.raises(ValueError, match="node embeddings, a heuristic"):
        distill_link_student(graph, split, None, cn, LinkStudentConfig(method="repr", epochs=1), progress=False)
    with pytest.raises(ValueError, match="no teacher embeddings"):
        distill_link_student(
            graph, split, torch.zeros(graph.num_nodes, 4), cn, LinkStudentConfig(method="llp"), progress=False
        )
    with pytest.raises(ValueError, match="no dropout"):
        distill_link_student(
            graph, split, None, cn, LinkStudentConfig(method="llp", teacher_score_dropout=0.5), progress=False
        )
