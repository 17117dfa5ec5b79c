r"""EHDM's ensemble of link students: several MLP students, each distilled from another teacher
(EHDM: common neighbours, Adamic-Adar, resource allocation), scored together.

The paper describes a gate: a feature-only network that weighs each student per pair. Its
official code (ZongyueQin/EHDM, ``linkless-link-prediction/src``) runs something simpler, and that
is what g2m does: ``Gater.forward`` overwrites the gate's logits with ``0 * model_prediction``, so
its softmax weights are uniform, and the gate's ``train`` returns before its first step. The
ensemble's score of a pair is therefore the mean of the students' link probabilities,

.. math::
    s(u, v) = \frac{1}{K} \sum_{k=1}^{K} \sigma\big(f_k(h^{(k)}_u, h^{(k)}_v)\big),

with :math:`h^{(k)} = \mathrm{MLP}_k(X)` and :math:`f_k` student :math:`k`'s scorer (the official
code's monotone :math:`(s + 10^{-6}) / (1 + 10^{-3})` changes no rank, so no metric).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from g2m.data.graph import Graph
from g2m.data.link_splits import LinkSplit
from g2m.errors import G2MError
from g2m.evaluation.report import is_teacher_run, markdown_table, read_results, summarize_runs
from g2m.evaluation.results import Results, RunRow
from g2m.layers import LinkScorer
from g2m.training.chunked import PAIR_CHUNK
from g2m.training.link import evaluate_pairs

ENSEMBLE = "ensemble"


def ensemble_link_scores(
    students: Sequence[tuple[nn.Module, LinkScorer]], graph: Graph, split: LinkSplit
) -> dict[str, float]:
    """Validation Hits@20 (``val``) and the test metrics of the mean of the students' link
    probabilities on ``split`` (every student on the CPU or all on one device).

    Args:
        students: ``(encoder, scorer)`` pairs, each encoder mapping node features ``[N, F]`` to
            embeddings, each scorer two embeddings to a link logit.
        graph: the graph whose features the encoders read.
        split: the split the students were trained on.
    """
    if not students:
        raise ValueError("an ensemble needs at least one student")
    device = next(students[0][0].parameters()).device
    with torch.no_grad():
        embeddings = [encoder.eval()(graph.x.to(device)) for encoder, _ in students]

    def score(pairs: Tensor) -> Tensor:
        with torch.no_grad():
            chunks = []
            for a in range(0, pairs.size(1), PAIR_CHUNK):
                part = pairs[:, a : a + PAIR_CHUNK]
                probs = [torch.sigmoid(sc.eval().score_pairs(h, part)) for h, (_, sc) in zip(embeddings, students)]
                chunks.append(torch.stack(probs).mean(0))
            return torch.cat(chunks) if chunks else torch.zeros(0, device=pairs.device)

    return evaluate_pairs(score, split.to(device))


def _member(path: Path, method: str) -> tuple[Results, Path]:
    """A member run (``g2m run --task link ... --save-students DIR``) and the folder its students are in."""
    result = read_results(path)
    saved = result.get("experiment", {}).get("save_students")
    if not saved:
        raise G2MError(f"{path}: the run saved no students; run it again with --save-students DIR")
    if method not in result.get("experiment", {}).get("methods", ()):
        raise G2MError(f"{path}: the run has no {method} students (its methods: {result['experiment']['methods']})")
    return result, Path(saved)


def run_link_ensemble(
    paths: Sequence[Path], method: str = "llp", data_root: str | None = None, device: Any = "cpu"
) -> Results:
    """EHDM's ensemble, seed by seed, of the ``method`` students of several link runs of one
    dataset, setting and split protocol (their teachers differ): each seed's students must share
    their split. The results hold each member's teacher rows (so that `g2m compare
    --across-teachers` pairs the ensemble with another run on the same splits) and one ``ensemble``
    row per seed."""
    from g2m.data import get_spec, load_dataset
    from g2m.experiments.link import rebuild_link_split
    from g2m.students.io import load_link_student, student_folder

    if len(paths) < 2:
        raise G2MError("an ensemble needs the runs of at least two teachers")
    members = [_member(Path(p), method) for p in paths]
    first = members[0][0]["experiment"]
    for result, _ in members[1:]:
        for key in ("dataset", "setting", "split_seed"):
            if result["experiment"].get(key) != first.get(key):
                raise G2MError(
                    f"the runs differ in {key} ({first.get(key)!r} and {result['experiment'].get(key)!r}): "
                    "an ensemble scores one split's pairs"
                )
    seeds = sorted(set.intersection(*({r["seed"] for r in res["runs"] if r["model"] == method} for res, _ in members)))
    if not seeds:
        raise G2MError(f"the runs share no seed of {method} students")
    dataset = first["dataset"]
    graph = load_dataset(dataset, data_root)
    spec = get_spec(dataset)
    teachers = [res["experiment"]["teacher"] for res, _ in members]
    runs: list[RunRow] = [r for res, _ in members for r in res["runs"] if is_teacher_run(r)]
    splits: dict[str, LinkSplit] = {}  # LLP's protocol: one split serves every seed
    for seed in seeds:
        loaded = [load_link_student(student_folder(folder, method, seed)) for _, folder in members]
        keys = {meta["split_key"] for *_, meta in loaded}
        if len(keys) != 1:
            raise G2MError(f"seed {seed}: the students were trained on different splits ({sorted(keys)})")
        meta = loaded[0][3]
        if meta["split_key"] not in splits:
            splits[meta["split_key"]] = rebuild_link_split(graph, spec, meta)
        split = splits[meta["split_key"]]
        students = [(encoder.to(device), scorer.to(device)) for encoder, scorer, _, _ in loaded]
        runs.append({"model": ENSEMBLE, "seed": seed, **ensemble_link_scores(students, graph, split)})
    summary = summarize_runs(runs)
    title = (
        f"{dataset}, link {first['setting']}, ensemble of the {method} students of the {' + '.join(teachers)} "
        f"teachers (EHDM: the mean of their link probabilities), {len(seeds)} seeds"
    )
    return {
        "experiment": {
            "dataset": dataset,
            "setting": first["setting"],
            "split_seed": first.get("split_seed"),
            "teacher": "+".join(teachers),
            "methods": [ENSEMBLE],
            "members": [str(p) for p in paths],
            "method": method,
        },
        "runs": runs,
        "summary": summary,
        "title": title,
        "table": markdown_table(summary, title),
    }
