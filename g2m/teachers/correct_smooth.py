r"""A teacher followed by Correct and Smooth (Huang et al., "Combining Label Propagation and Simple
Models Out-performs Graph Neural Networks", ICLR 2021), as a teacher of its own.

The teacher's soft predictions :math:`Z = \mathrm{softmax}(\text{logits})` are corrected by the
training residuals, propagated over the normalised adjacency
:math:`S = D^{-1/2} A D^{-1/2}`, then smoothed by label propagation from the training labels:

.. math::
    E^{(0)}_i = y_i - z_i\ (i \in \text{train}),\ 0\ \text{else}, \qquad
    E^{(l)} = \alpha_1 S E^{(l-1)} + (1 - \alpha_1) E^{(l-1)}, \qquad
    \hat Z = Z + \gamma \odot E^{(L)},

.. math::
    \hat Z^{(0)}_i = y_i\ (i \in \text{train}),\ \hat z_i\ \text{else}, \qquad
    \hat Z^{(l)} = \alpha_2 S \hat Z^{(l-1)} + (1 - \alpha_2) \hat Z^{(l-1)},

with :math:`\gamma` scaled per node ("autoscale", the paper's default). The propagation is PyG's
:class:`~torch_geometric.nn.models.CorrectAndSmooth`; only the **training** labels enter it, so
that validation can choose the teacher and its two :math:`\alpha` honestly. The students learn
from :math:`\log \hat Z^{(L)}` (rows renormalised, clamped away from zero): logits whose softmax
is the smoothed prediction.
"""

from __future__ import annotations

from torch import Tensor
from torch_geometric.nn.models import CorrectAndSmooth

from g2m.data.graph import Graph
from g2m.data.splits import NodeSplit

#: the validation grid of (correction alpha, smoothing alpha); 50 propagations each, autoscale
ALPHA_GRID: tuple[tuple[float, float], ...] = ((0.5, 0.5), (0.5, 0.8), (0.8, 0.5), (0.8, 0.8), (1.0, 0.5), (1.0, 0.8))
#: the propagations of each of the two steps (the paper's and PyG's example's 50)
NUM_LAYERS = 50
#: the smallest probability :func:`correct_and_smooth` takes the log of
EPS = 1e-6


def correct_and_smooth(
    logits: Tensor,
    y_train: Tensor,
    train: Tensor,
    edge_index: Tensor,
    correction_alpha: float = 0.8,
    smoothing_alpha: float = 0.8,
    num_layers: int = NUM_LAYERS,
) -> Tensor:
    r"""A teacher's ``logits`` after Correct and Smooth, as log-probabilities.

    Args:
        logits: The teacher's outputs, one row per node of the graph ``edge_index`` joins.
        y_train: The class of every training node (the only labels used).
        train: The training nodes' indices.
        edge_index: The graph's edges (PyG's ``gcn_norm`` without self-loops weighs them).
        correction_alpha: :math:`\alpha_1`, in ``[0, 1]``.
        smoothing_alpha: :math:`\alpha_2`, in ``[0, 1]``.
        num_layers: Propagations of each step (:math:`L`).

    Shapes:
        ``logits`` ``[N, C]``; ``y_train``, ``train`` ``[T]``; ``edge_index`` ``[2, E]``;
        returns ``[N, C]``.

    Example:
        >>> import torch
        >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> logits = torch.zeros(3, 2)  # a teacher with no opinion
        >>> out = correct_and_smooth(logits, torch.tensor([1]), torch.tensor([0]), edge_index)
        >>> out.argmax(-1).tolist()  # node 0's label spreads along the path
        [1, 1, 1]
        >>> torch.allclose(out.exp().sum(-1), torch.ones(3))
        True
    """
    for name, alpha in (("correction_alpha", correction_alpha), ("smoothing_alpha", smoothing_alpha)):
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {alpha}")
    if num_layers < 1:
        raise ValueError(f"num_layers must be at least 1, got {num_layers}")
    if y_train.numel() != train.numel():
        raise ValueError(f"one label per training node: {y_train.numel()} labels for {train.numel()} nodes")
    cs = CorrectAndSmooth(num_layers, correction_alpha, num_layers, smoothing_alpha, autoscale=True)
    soft = logits.float().softmax(-1)
    smoothed = cs.smooth(cs.correct(soft, y_train, train, edge_index), y_train, train, edge_index)
    prob = smoothed.clamp_min(EPS)
    return (prob / prob.sum(-1, keepdim=True)).log()


def correct_and_smooth_split(
    logits: Tensor,
    graph: Graph,
    split: NodeSplit,
    correction_alpha: float = 0.8,
    smoothing_alpha: float = 0.8,
    num_layers: int = NUM_LAYERS,
) -> Tensor:
    """:func:`correct_and_smooth` of a teacher's full-graph ``logits`` as the teacher itself saw the
    graph: the observed nodes' rows propagated over the observed graph alone, the held-out nodes'
    (inductive) over the full graph, as the teacher's own rows were computed
    (:func:`g2m.training.node_teacher.train_node_teacher`); training labels only, either way.

    Shapes:
        ``logits`` ``[N, C]`` (every node of ``graph``); returns ``[N, C]``.
    """
    y = graph.require_labels()
    args = (correction_alpha, smoothing_alpha, num_layers)
    view = split.observed_view(graph)
    observed = correct_and_smooth(logits[split.observed], view.y[view.train], view.train, view.edge_index, *args)
    if not split.test_ind.numel():
        return observed
    out = correct_and_smooth(logits, y[split.train], split.train, graph.edge_index, *args)
    out[split.observed] = observed
    return out
