"""make_graph refuses bad data with one error naming it, and warns of isolated nodes."""

from __future__ import annotations

import pytest
import torch

from g2m.data.graph import make_graph
from g2m.errors import DataWarning, InvalidGraphError

EDGES = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])


def _graph(**kw):
    args = dict(
        x=torch.randn(5, 3),
        y=torch.tensor([0, 1, 2, 0, 1]),
        edge_index=torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]]),
        num_classes=3,
        masks=None,
    )
    args.update(kw)
    return make_graph("g", args["x"], args["y"], args["edge_index"], args["num_classes"], args["masks"])


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_features_are_named(value):
    x = torch.randn(5, 3)
    x[3, 1] = value
    x[4, 0] = value
    with pytest.raises(InvalidGraphError, match=r"^g: 2 nodes with NaN or inf features \(first: node 3\)"):
        _graph(x=x)


def test_labels_out_of_range_and_unlabelled_nodes_in_masks():
    with pytest.raises(InvalidGraphError, match=r"1 node labelled >= num_classes = 3 \(first: node 2, label 7\)"):
        _graph(y=torch.tensor([0, 1, 7, 0, 1]))
    y = torch.tensor([0, -1, 2, -1, 1])
    _graph(y=y)  # unlabelled nodes are fine outside the masks
    train = torch.tensor([True, True, False, True, False])
    with pytest.raises(
        InvalidGraphError,
        match=r"2 nodes without a label \(label < 0\) in the train mask "
        r"\(first: node 1\)",
    ):
        _graph(y=y, masks={"train": train})
    fixed = torch.zeros(5, 3, dtype=torch.bool)
    fixed[3, 2] = True  # the third of three fixed splits
    with pytest.raises(InvalidGraphError, match=r"1 node without a label .* in the test mask \(first: node 3\)"):
        _graph(y=y, masks={"test": fixed})
    with pytest.raises(InvalidGraphError, match="the val mask has 4 rows for 5 nodes"):
        _graph(masks={"val": torch.ones(4, dtype=torch.bool)})


def test_isolated_nodes_are_a_warning():
    with pytest.warns(DataWarning, match=r"g: 1 node isolated \(first: node 4\)"):
        _graph(edge_index=EDGES)
