"""PyG transforms that compose with ``torch_geometric.transforms.Compose``: a teacher's outputs
and position features attached to a ``Data`` for your own training loop."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch_geometric.transforms import BaseTransform


class AddTeacherOutputs(BaseTransform):
    """Run ``teacher(x, edge_index)`` once (eval mode, no gradient) and store its ``[N, C]`` logits
    in ``data.teacher_logits`` and, for a PyG ``BasicGNN``, the input of its last convolution
    (the hidden layer NOSMOG's similarity matches) in ``data.teacher_hidden``; on the CPU.

    Args:
        teacher: a trained model called as ``teacher(x, edge_index)``.
        hidden: also store the hidden layer (needs a module with PyG ``convs``).
    """

    def __init__(self, teacher: nn.Module, hidden: bool = False) -> None:
        self.teacher, self.hidden = teacher, hidden

    def forward(self, data: Any) -> Any:
        from g2m.api import teacher_knowledge
        from g2m.data.graph import graph_from_data
        from g2m.data.splits import make_node_split

        graph = graph_from_data(data)
        if not graph.masks:  # the split only decides which nodes are observed: all of them here
            graph.masks = {
                k: torch.ones(graph.num_nodes, dtype=torch.bool, device="cpu") for k in ("train", "val", "test")
            }
        split = make_node_split(graph, "public")
        known = teacher_knowledge(self.teacher, graph, data.edge_index.cpu(), split, self.hidden, False, 0)
        data.teacher_logits = known.logits
        if self.hidden:
            data.teacher_hidden = known.hidden
        return data


class AddPositionFeatures(BaseTransform):
    """DeepWalk position features of the graph (NOSMOG's), ``[N, dim]``, in ``data.position``, or
    appended to ``data.x`` with ``cat=True`` (:func:`g2m.students.position.deepwalk`).

    Args:
        dim: the embedding's width.
        walk_length: steps per walk.
        walks_per_node: walks started at each node.
        window: the skip-gram window.
        epochs: passes over the walks.
        seed: the walks' and the embedding's seed.
        cat: append to ``data.x`` instead of storing ``data.position``.
    """

    def __init__(
        self,
        dim: int = 64,
        walk_length: int = 50,
        walks_per_node: int = 5,
        window: int = 5,
        epochs: int = 1,
        seed: int = 0,
        cat: bool = False,
    ) -> None:
        from g2m.students.position import DeepWalkSettings

        self.settings = DeepWalkSettings(
            dim=dim, walk_length=walk_length, walks_per_node=walks_per_node, window=window, epochs=epochs
        )
        self.seed, self.cat = seed, cat

    def forward(self, data: Any) -> Any:
        from g2m.students.position import deepwalk

        table = deepwalk(data.edge_index.cpu(), data.num_nodes, self.settings, self.seed).to(data.x.device)
        if self.cat:
            data.x = torch.cat([data.x, table.to(data.x.dtype)], dim=1)
        else:
            data.position = table
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.settings.dim}, seed={self.seed}, cat={self.cat})"
