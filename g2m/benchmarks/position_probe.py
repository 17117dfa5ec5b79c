"""How much structure a DeepWalk position table carries: a linear probe on the table alone.

For each seed, the dataset's protocol split (GLNN/CPF's by default: the largest connected
component, 20/30 labels per class) and a DeepWalk table of the whole graph at the settings the
``nosmog`` student uses for this dataset (its TOML's ``[hparams.student.nosmog]``); a logistic
regression (scikit-learn, L2, the default ``C``) fits the training nodes' rows and is scored on
the test nodes. A table that carries no structure scores near the majority class; NOSMOG's
DeepWalk on Cora about 69 %.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np


def position_probe(
    dataset: str, data_root: str | Path | None, backend: str, seeds: int = 5, split: str | None = None
) -> dict[str, Any]:
    """Test accuracy of a logistic regression on the position table alone, per seed and mean."""
    from sklearn.linear_model import LogisticRegression

    from g2m.config import student_config
    from g2m.data import get_spec, load_dataset, make_node_split
    from g2m.data.splits import protocol_graph
    from g2m.students.position import deepwalk

    spec = get_spec(dataset)
    split_name = split or spec.split
    graph = protocol_graph(load_dataset(dataset, data_root), split_name)
    settings = replace(student_config(spec, "nosmog", "sage").position_settings(), backend=backend)
    y = graph.require_labels().numpy()
    scores = []
    for seed in range(seeds):
        node_split = make_node_split(graph, split_name, "transductive", seed)
        table = deepwalk(graph.edge_index, graph.num_nodes, settings, seed).numpy()
        train, test = node_split.train.numpy(), node_split.test.numpy()
        probe = LogisticRegression(max_iter=2000).fit(table[train], y[train])
        scores.append(float(probe.score(table[test], y[test])))
    majority = float(np.bincount(y[node_split.test.numpy()]).max() / node_split.test.numel())
    return {
        "dataset": dataset,
        "split": split_name,
        "backend": backend,
        "settings": {k: getattr(settings, k) for k in ("dim", "walk_length", "walks_per_node", "window", "epochs")},
        "test_accuracy": scores,
        "mean": float(np.mean(scores)),
        "std": float(np.std(scores)),
        "majority_class": majority,
    }
