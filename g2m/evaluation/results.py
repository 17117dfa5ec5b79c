"""The typed shape of a results file (``results.json``): what ``g2m run`` writes and ``g2m
report | compare | merge | leaderboard`` read.

A run's per-seed rows and the summary's rows are keyed by metric names (``val``, ``test``,
``hits@20``, ...; :data:`g2m.evaluation.report.SCORE_ORDER`), so they stay mappings: a
:data:`RunRow` holds ``model`` (``"teacher (<name>)"`` or the method), ``seed``, one score per
metric in [0, 1], and what the training recorded (``seconds``, ``epochs_run``,
``seconds_per_epoch``, ``cached`` for a teacher, ``guard`` and ``guard_val`` for a guarded
student; a teacher chosen on validation, ``g2m run -t best``, also ``chosen``, Correct and Smooth's
``alphas`` (absent without) and every ``candidates``' scores); a :data:`SummaryRow` holds ``model``,
``seeds`` and ``<metric>_mean`` / ``<metric>_std``.
"""

from __future__ import annotations

from typing import Any, TypedDict

#: one model's scores on one seed
RunRow = dict[str, Any]
#: one model's scores over its seeds, mean and standard deviation per metric
SummaryRow = dict[str, Any]


class Results(TypedDict, total=False):
    """A node or link experiment's results, as written to ``results.json``."""

    #: the experiment's settings (:class:`g2m.experiments.node.NodeExperiment` or ``LinkExperiment``)
    experiment: dict[str, Any]
    #: the node task's metric (``accuracy`` or ``rocauc``); link results report every Hits@K, MRR, AUC
    metric: str
    #: the resolved teacher config, and each method's student config
    teacher_config: dict[str, Any]
    student_configs: dict[str, dict[str, Any]]
    runs: list[RunRow]
    summary: list[SummaryRow]
    title: str
    #: node results: edge homophily, adjusted homophily and the per-seed estimates
    homophily: dict[str, Any]
    #: the Markdown table (``results.md``)
    table: str
    #: wall seconds of this process, and training seconds of every model in the table
    seconds: float
    compute_seconds: float
    torch_threads: int
    device: dict[str, Any]
    #: the command, commit, versions and machine (:func:`g2m.evaluation.provenance.provenance`)
    provenance: dict[str, Any]
    #: a merged file (``g2m merge``): how many parts, and each part's provenance
    merged_from: int
    parts_provenance: list[dict[str, Any]]
