"""``python -m lab model-hashes``: a fingerprint of every teacher and student architecture's numerics.

Each configuration (kind, norm, hidden point, depth, dense or CSR features) is built from one seed
on a fixed random graph, trained three Adam steps with dropout, and its eval-mode outputs and
hidden representation hashed. Run it before and after a refactor that should change no number
(``diff`` the two files): a different line names the configuration whose parameters, random
stream or forward moved. This is how the teachers' move to PyG's ``BasicGNN`` and the student's
to PyG's ``MLP`` were checked (138 configurations, the same hashes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from functools import partial

import torch
from torch import Tensor, nn

from g2m.methods import HIDDEN_POINTS, NORMS

#: the teacher kinds with their extra arguments (each crossed with every norm and hidden point)
TEACHERS: tuple[tuple[str, dict[str, object]], ...] = (
    ("gcn", {}),
    ("sage", {}),
    ("sage", {"sage_aggr": "gcn"}),
    ("gat", {"heads": 4}),
    ("appnp", {}),
)


def _graph(nodes: int, features: int, classes: int) -> tuple[Tensor, Tensor, Tensor]:
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(nodes, features, generator=gen) < 0.1).float()
    edges = torch.randint(0, nodes, (2, 5 * nodes), generator=gen)
    edges = torch.cat([edges, edges.flip(0)], 1)
    edges = torch.unique(edges[:, edges[0] != edges[1]], dim=1)
    return x, edges, torch.randint(0, classes, (nodes,), generator=gen)


def _digest(t: Tensor) -> str:
    return hashlib.sha1(t.detach().contiguous().numpy().tobytes()).hexdigest()[:12]


def _fingerprint(model: nn.Module, forward: Callable[[], tuple[Tensor, Tensor]], y: Tensor) -> tuple[str, str]:
    """Three Adam steps (cross-entropy and a small penalty on the hidden representation), then the
    eval-mode outputs' and hidden representation's hashes."""
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(3):
        model.train()
        opt.zero_grad()
        out, hidden = forward()
        (nn.functional.cross_entropy(out, y) + 0.01 * hidden.pow(2).mean()).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        out, hidden = forward()
    return _digest(out), _digest(hidden)


def model_hashes(nodes: int = 300, features: int = 50, classes: int = 5, hidden: int = 16) -> Iterator[str]:
    """One line per configuration: its name, then the outputs' and hidden representation's hashes."""
    from g2m.ops.sparse import sparse_features
    from g2m.students.mlp import MLP
    from g2m.teachers.models import build_teacher

    x, edges, y = _graph(nodes, features, classes)
    for sparse in (False, True):
        xx = sparse_features(x) if sparse else x
        for kind, extra in TEACHERS:
            if sparse and kind == "gat":  # GAT takes dense features only
                continue
            for norm in NORMS:
                for point in HIDDEN_POINTS:
                    for layers in (2, 3):
                        torch.manual_seed(1)
                        gnn = build_teacher(kind, features, classes, hidden=hidden, num_layers=layers, norm=norm,
                                            hidden_at=point, **extra)  # fmt: skip
                        digests = _fingerprint(gnn, partial(gnn.__call__, xx, edges, return_hidden=True), y)
                        yield " ".join((kind, str(extra), norm, point, str(layers), f"sparse={sparse}", *digests))
        for norm in NORMS:
            for point in HIDDEN_POINTS:
                for layers in (1, 2, 3) if point == "input" else (2, 3):
                    torch.manual_seed(1)
                    mlp = MLP(features, classes, hidden=hidden, num_layers=layers, norm=norm, input_dropout=0.2,
                              hidden_at=point)  # fmt: skip
                    digests = _fingerprint(mlp, partial(mlp.__call__, xx, return_hidden=True), y)
                    yield " ".join(("mlp", norm, point, str(layers), f"sparse={sparse}", *digests))
