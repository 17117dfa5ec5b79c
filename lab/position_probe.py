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

from g2m.errors import G2MError

#: the ``kind`` a probe's JSON records, so that ``python -m lab report --probe`` refuses any other file
KIND = "position-probe"


def position_probe(
    dataset: str, data_root: str | Path | None, backend: str, seeds: int = 5, split: str | None = None
) -> dict[str, Any]:
    """Test accuracy of a logistic regression on the position table alone, per seed and mean."""
    from sklearn.linear_model import LogisticRegression

    from g2m.config import student_config
    from g2m.data import get_spec, load_dataset, make_node_split
    from g2m.data.splits import protocol_graph
    from g2m.students.position import deepwalk, position_settings

    spec = get_spec(dataset)
    split_name = split or spec.split
    graph = protocol_graph(load_dataset(dataset, data_root), split_name)
    settings = replace(position_settings(student_config(spec, "nosmog", "sage")), backend=backend)
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
        "kind": KIND,
        "dataset": dataset,
        "split": split_name,
        "backend": backend,
        "settings": {k: getattr(settings, k) for k in ("dim", "walk_length", "walks_per_node", "window", "epochs")},
        "test_accuracy": scores,
        "mean": float(np.mean(scores)),
        "std": float(np.std(scores)),
        "majority_class": majority,
    }


def probe_table(results: list[dict[str, Any]], names: list[str] | None = None) -> str:
    """One row per dataset (with its DeepWalk settings), one column per backend (test accuracy of the
    probe, mean ± std over seeds, in %), then the majority class of the last seed's test nodes.

    Args:
        results: :func:`position_probe`'s outputs (as written by ``python -m lab position-probe --out``).
        names: where each came from, for the errors (default: its position in the list).
    """
    names = names or [f"probe {i}" for i in range(len(results))]
    cells: dict[str, dict[str, dict[str, Any]]] = {}
    for name, result in zip(names, results):
        if not isinstance(result, dict) or result.get("kind") != KIND:
            raise G2MError(f"{name}: not a position-probe file (written by `python -m lab position-probe --out`)")
        per_backend = cells.setdefault(result["dataset"], {})
        if result["backend"] in per_backend:
            raise G2MError(f"{name}: a second {result['backend']} probe of {result['dataset']}")
        per_backend[result["backend"]] = result
    backends = [b for b in ("torch", "gensim", "random") if any(b in c for c in cells.values())]
    lines = [
        "| dataset (DeepWalk settings) | " + " | ".join(backends) + " | majority class |",
        "|---|" + "---|" * (len(backends) + 1),
    ]
    for dataset, per_backend in cells.items():
        first = next(iter(per_backend.values()))
        s = first["settings"]
        setting = f"{s['dim']}-d, {s['walks_per_node']} walks of {s['walk_length']}, window {s['window']}, "
        setting += f"{s['epochs']} epoch{'s' if s['epochs'] != 1 else ''}"
        row = [
            f"{100 * per_backend[b]['mean']:.2f} ± {100 * per_backend[b]['std']:.2f}" if b in per_backend else "-"
            for b in backends
        ]
        lines.append(f"| {dataset} ({setting}) | " + " | ".join(row) + f" | {100 * first['majority_class']:.1f} |")
    return "\n".join(lines)
