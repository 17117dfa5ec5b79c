"""Teachers chosen to teach: the best validation score among the candidates, GNNs trained once,
Correct and Smooth's alphas chosen on validation, test labels never read."""

from dataclasses import replace

import pytest
import torch

from g2m.cache import TeacherCache
from g2m.config import TeacherConfig
from g2m.data import load_dataset, make_node_split
from g2m.experiments.teachers import choose_node_teacher, smoothed_teacher
from g2m.teachers.correct_smooth import ALPHA_GRID
from g2m.teachers.knowledge import TeacherKnowledge

GRAPH = dict(num_nodes=400, num_classes=3, avg_degree=6, homophily=0.8, feature_signal=0.6, num_features=12)
FAST = dict(hidden=16, epochs=30, patience=30)
CONFIGS = {m: TeacherConfig(model=m, **FAST) for m in ("gcn", "sage")}
CANDIDATES = ("gcn", "sage", "gcn+cs", "sage+cs")


@pytest.fixture(scope="module")
def graph_split():
    g = load_dataset("csbm", **GRAPH)
    return g, make_node_split(g, "random", seed=0)


@pytest.fixture(scope="module")
def chosen(graph_split, tmp_path_factory):
    g, split = graph_split
    cache = TeacherCache(tmp_path_factory.mktemp("cache"))
    return choose_node_teacher(g, split, CONFIGS, CANDIDATES, 0, "accuracy", cache, progress=False), cache


def test_the_best_validation_score_is_chosen(chosen):
    teacher, _ = chosen
    assert list(teacher.candidates) == list(CANDIDATES)
    best = max(CANDIDATES, key=lambda name: teacher.candidates[name]["val"])  # max keeps the first of a tie
    assert teacher.name == best and teacher.scores == teacher.candidates[best]
    assert teacher.config.model == best.removesuffix("+cs")
    assert (teacher.alphas is None) == (not best.endswith("+cs"))
    assert teacher.train_seconds is not None and teacher.train_seconds > 0


def test_each_gnn_trained_once_and_cached(chosen, graph_split):
    _, cache = chosen
    g, split = graph_split
    again = choose_node_teacher(g, split, CONFIGS, CANDIDATES, 0, "accuracy", cache, progress=False)
    assert again.cached and again.name == chosen[0].name
    torch.testing.assert_close(again.knowledge.logits, chosen[0].knowledge.logits)
    assert sum(1 for _ in cache.root.rglob("meta.json")) == len(CONFIGS)


def test_the_choice_reads_no_test_label(chosen, graph_split):
    teacher, cache = chosen
    g, split = graph_split
    y = g.require_labels().clone()
    y[split.test] = (y[split.test] + 1) % GRAPH["num_classes"]
    again = choose_node_teacher(replace(g, y=y), split, CONFIGS, CANDIDATES, 0, "accuracy", cache, progress=False)
    assert again.name == teacher.name and again.alphas == teacher.alphas
    assert {k: v["val"] for k, v in again.candidates.items()} == {k: v["val"] for k, v in teacher.candidates.items()}


def test_one_candidate_is_that_teacher(graph_split):
    g, split = graph_split
    one = choose_node_teacher(g, split, CONFIGS, ("sage+cs",), 0, "accuracy", None, progress=False)
    assert one.name == "sage+cs" and one.alphas in ALPHA_GRID and list(one.candidates) == ["sage+cs"]


def test_smoothing_alphas_chosen_on_validation(graph_split):
    g, split = graph_split
    torch.manual_seed(0)
    y = g.require_labels()
    noisy = TeacherKnowledge(torch.nn.functional.one_hot(y, 3).float() + 2 * torch.randn(g.num_nodes, 3))
    knowledge, scores, alphas = smoothed_teacher(noisy, g, split, "accuracy")
    assert alphas in ALPHA_GRID and knowledge.hidden is None
    from g2m.evaluation.metrics import node_scores
    from g2m.teachers.correct_smooth import correct_and_smooth_split

    vals = [
        node_scores(correct_and_smooth_split(noisy.logits, g, split, *a), g, split, "accuracy")["val"]
        for a in ALPHA_GRID
    ]
    assert scores["val"] == max(vals) and ALPHA_GRID.index(alphas) == vals.index(max(vals))


def test_bad_candidates(graph_split):
    g, split = graph_split
    with pytest.raises(ValueError, match="no candidate"):
        choose_node_teacher(g, split, CONFIGS, (), 0, "accuracy", None, progress=False)
    with pytest.raises(ValueError, match="'gat' has no configuration"):
        choose_node_teacher(g, split, CONFIGS, ("gat",), 0, "accuracy", None, progress=False)
    with pytest.raises(ValueError, match="unknown node teacher 'gin'"):
        choose_node_teacher(g, split, CONFIGS, ("gin",), 0, "accuracy", None, progress=False)
