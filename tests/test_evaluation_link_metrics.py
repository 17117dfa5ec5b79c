"""Link metrics against OGB's Evaluator: MRR over shared negatives, ties included."""

import pytest
import torch

from g2m.evaluation.link_metrics import mrr


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mrr_equals_ogbs_citation2_rule_with_ties(seed):
    from ogb.linkproppred import Evaluator

    g = torch.Generator().manual_seed(seed)
    pos = torch.randint(0, 20, (300,), generator=g).float()  # integer scores: many ties
    neg = torch.randint(0, 20, (500,), generator=g).float()
    ogb = Evaluator("ogbl-citation2").eval({"y_pred_pos": pos, "y_pred_neg": neg.unsqueeze(0).expand(pos.numel(), -1)})[
        "mrr_list"
    ]
    assert mrr(pos, neg) == pytest.approx(float(ogb.double().mean()), rel=1e-6)


def test_mrr_scales_to_half_a_million_pairs_each_way():
    import time

    g = torch.Generator().manual_seed(0)
    pos, neg = torch.rand(500_000, generator=g), torch.rand(500_000, generator=g)
    start = time.perf_counter()
    value = mrr(pos, neg)
    assert time.perf_counter() - start < 10  # a [P, Q] comparison would take minutes to hours
    assert 0.0 < value < 0.001  # uniform scores: a positive ranks near the middle of 500,000
