r"""Edge homophily of a graph, measured and estimated, and the warning that LFD / HFD
are expected to hurt on a heterophilous graph.

Edge homophily is :math:`h = \frac{1}{|E|}\sum_{(i,j) \in E} [y_i = y_j]`. With
unbalanced classes it is misleading (a binary graph with 90% of nodes in one class
has :math:`h \approx 0.8` at random), so the warning uses the *adjusted* homophily
of Platonov et al. (2023), 0 for a random graph and 1 for a perfectly homophilous one:

.. math:: h_{adj} = \frac{h - \sum_k \bar p_k^2}{1 - \sum_k \bar p_k^2}, \qquad
          \bar p_k = \frac{D_k}{2|E|},

where :math:`D_k` is the summed degree of class :math:`k` (computed by
:func:`g2m.data.graph.homophily`). Only edges whose two ends are labelled count (a
negative label means unlabelled).

Before distilling, only training and validation labels may be used: the label
estimate takes the edges between such nodes; the teacher estimate labels every
observed node with the teacher's prediction (training nodes keep their label).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from g2m.data.graph import homophily
from g2m.errors import G2MWarning

#: LFD and HFD assume that neighbours share classes: below this adjusted homophily
#: they are expected to hurt (FF-G2M falls below the plain MLP on texas, actor, ...)
HETEROPHILY_THRESHOLD = 0.3
#: the label estimate is used when at least this many edges join two known labels
MIN_LABELLED_EDGES = 20
GRAPH_METHODS = ("lfd", "hfd", "ffg2m")


class HeterophilyWarning(G2MWarning):
    """Graph-based distillation asked for on a graph where it is expected to hurt."""


@dataclass(frozen=True)
class HomophilyReport:
    edge: float  # over every labelled node: reported, never used in training
    adjusted: float
    label_estimate: float  # adjusted, from training + validation labels only
    label_edges: int
    teacher_estimate: float | None  # adjusted, from the teacher's predictions

    @property
    def estimate(self) -> float:
        """The estimate the warning uses: labels if enough edges join two, else the teacher's."""
        if self.label_edges >= MIN_LABELLED_EDGES or self.teacher_estimate is None:
            return self.label_estimate
        return self.teacher_estimate

    def as_dict(self) -> dict[str, float | int | None]:
        return {**asdict(self), "estimate": self.estimate}


def homophily_report(
    edge_index: Tensor, y: Tensor, known: Tensor, teacher_pred: Tensor | None = None
) -> HomophilyReport:
    """``known``: indices of the nodes whose labels training may use (train + val);
    ``teacher_pred``: the teacher's predicted class of every node, or ``None``."""
    edge, adjusted, _ = homophily(edge_index, y)
    masked = torch.full_like(y, -1)
    masked[known] = y[known]
    _, label_est, label_edges = homophily(edge_index, masked)
    teacher_est = None
    if teacher_pred is not None:
        pred = teacher_pred.clone()
        pred[known] = y[known]
        teacher_est = homophily(edge_index, pred)[1]
    return HomophilyReport(edge, adjusted, label_est, label_edges, teacher_est)


def warn_if_heterophilous(report: HomophilyReport, methods: tuple[str, ...], dataset: str) -> bool:
    """Warn (once, :class:`HeterophilyWarning`) when a graph-based method is asked for on a
    graph whose estimated adjusted homophily is below :data:`HETEROPHILY_THRESHOLD`."""
    graph_methods = [m for m in methods if m in GRAPH_METHODS]
    est = report.estimate
    if not graph_methods or math.isnan(est) or est >= HETEROPHILY_THRESHOLD:
        return False
    source = "training/validation labels" if est == report.label_estimate else "the teacher's predictions"
    warnings.warn(
        f"{dataset}: adjusted edge homophily estimated at {est:.2f} from {source} "
        f"(< {HETEROPHILY_THRESHOLD}): {', '.join(graph_methods)} distil along edges that mostly join "
        "different classes and are expected to hurt here; compare them with glnn and mlp",
        HeterophilyWarning,
        stacklevel=2,
    )
    return True
