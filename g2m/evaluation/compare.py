r"""Is method A better than method B over the same seeds?

Two readings of one multi-seed result:

* the clear-margin test this project's claims use: the gap of the means beats
  two standard deviations, :math:`\bar a - \bar b > 2\max(s_a, s_b)`;
* the paired difference by seed, :math:`d_k = a_k - b_k`, reported as
  :math:`\bar d \pm s_d`. Seeds that share the split, the teacher and the
  encoder's initialisation make :math:`s_d` much smaller than :math:`s_a, s_b`.

The **paired verdict** (the link tables' rule, issue 15): with at least
``MIN_VERDICT_SEEDS`` seeds sharing one split and one teacher, A *wins* when it is
ahead on at least 80 % of the seeds (8 of 10) and :math:`\bar d > 2\,s_d/\sqrt{n}`
(two standard errors of the paired differences).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from g2m.evaluation.report import is_teacher_run, mean_std
from g2m.evaluation.results import RunRow

MIN_VERDICT_SEEDS = 10
AHEAD_SHARE = 0.8


def clear_margin(mean_a: float, std_a: float, mean_b: float, std_b: float) -> tuple[float, float]:
    """``(gap, bar)``: the gap of the means and the two-standard-deviation bar it must beat."""
    return mean_a - mean_b, 2 * max(std_a, std_b)


@dataclass(frozen=True)
class Comparison:
    a: str
    b: str
    metric: str
    seeds: tuple[int, ...]
    mean_a: float
    std_a: float
    mean_b: float
    std_b: float
    paired_mean: float  # mean over seeds of a_k - b_k
    paired_std: float
    ahead: int = 0  # seeds on which a_k > b_k

    @property
    def paired_se(self) -> float:
        return self.paired_std / math.sqrt(len(self.seeds))

    @property
    def verdict(self) -> str:
        """``wins`` | ``does not win`` | ``too few seeds`` (the paired rule above)."""
        if len(self.seeds) < MIN_VERDICT_SEEDS:
            return "too few seeds"
        wins = self.ahead >= AHEAD_SHARE * len(self.seeds) and self.paired_mean > 2 * self.paired_se
        return "wins" if wins else "does not win"

    def describe_verdict(self, scale: float = 100.0) -> str:
        return (
            f"{self.a} {self.verdict} against {self.b} on {self.metric}: ahead on {self.ahead}/{len(self.seeds)} "
            f"seeds, paired {scale * self.paired_mean:+.2f} (2 SE = {scale * 2 * self.paired_se:.2f})"
        )

    @property
    def gap(self) -> float:
        return clear_margin(self.mean_a, self.std_a, self.mean_b, self.std_b)[0]

    @property
    def bar(self) -> float:
        return clear_margin(self.mean_a, self.std_a, self.mean_b, self.std_b)[1]

    @property
    def clear(self) -> bool:
        return self.gap > self.bar

    def describe(self, scale: float = 100.0) -> str:
        return (
            f"{self.a} - {self.b} {self.metric} = {scale * self.gap:+.2f} "
            f"({'>' if self.clear else 'not >'} 2 std = {scale * self.bar:.2f}); "
            f"paired by seed over {len(self.seeds)} seeds: {scale * self.paired_mean:+.2f} "
            f"+- {scale * self.paired_std:.2f}; {self.describe_verdict(scale)}"
        )


def compare_methods(runs: Sequence[RunRow], a: str, b: str, metric: str = "hits@20") -> Comparison:
    """Compare methods ``a`` and ``b`` on ``metric`` from per-seed ``runs`` (``model``,
    ``seed``, scores), as written by ``g2m run``. Both must cover the same seeds."""
    by_method: dict[str, dict[int, float]] = {a: {}, b: {}}
    for run in runs:
        if run["model"] in by_method:
            if metric not in run:
                raise ValueError(f"run of {run['model']} seed {run['seed']} has no {metric!r}")
            by_method[run["model"]][run["seed"]] = float(run[metric])
    for m, scores in by_method.items():
        if not scores:
            raise ValueError(f"no runs of {m!r}; the result holds {sorted({r['model'] for r in runs})}")
    if by_method[a].keys() != by_method[b].keys():
        raise ValueError(f"{a!r} and {b!r} ran different seeds: {sorted(by_method[a])} vs {sorted(by_method[b])}")
    seeds = tuple(sorted(by_method[a]))
    va, vb = [by_method[a][s] for s in seeds], [by_method[b][s] for s in seeds]
    (ma, sa), (mb, sb) = mean_std(va), mean_std(vb)
    pm, ps = mean_std([x - y for x, y in zip(va, vb)])
    return Comparison(a, b, metric, seeds, ma, sa, mb, sb, pm, ps, sum(x > y for x, y in zip(va, vb)))


@dataclass(frozen=True)
class BestChoice:
    """The student with the highest mean validation score over a run's seeds (test unseen)."""

    method: str
    #: every student, best validation first: ``(method, val mean, val std, test mean, test std)``
    ranking: tuple[tuple[str, float, float, float, float], ...]
    seeds: tuple[int, ...]
    #: the test score shown beside validation ("test" for node runs, "hits@20" for link runs)
    metric: str = "test"

    def describe(self, scale: float = 100.0) -> str:
        lines = [
            f"students ranked by mean validation score over seeds {list(self.seeds)} ({self.metric} shown, not used):"
        ]
        for m, vm, vs, tm, ts in self.ranking:
            mark = "  <- best on validation" if m == self.method else ""
            lines.append(
                f"  {m}: val {scale * vm:.2f} +- {scale * vs:.2f}, {self.metric} {scale * tm:.2f} +- "
                f"{scale * ts:.2f}{mark}"
            )
        if self.tied:
            lines.append(
                f"{self.method} ties with {', '.join(self.tied)} on validation; the method listed first "
                "in the run was chosen (reorder --methods, or add seeds, to decide otherwise)"
            )
        return "\n".join(lines)

    @property
    def tied(self) -> tuple[str, ...]:
        """The other students whose validation mean equals the chosen one's (to float rounding)."""
        best = self.ranking[0][1]
        return tuple(m for m, vm, *_ in self.ranking[1:] if math.isclose(vm, best, rel_tol=0.0, abs_tol=1e-9))


def best_on_validation(
    runs: Sequence[RunRow], candidates: Sequence[str] | None = None, metric: str = "test"
) -> BestChoice:
    """Choose among the students of per-seed ``runs`` (teacher rows excluded) by the mean of
    their ``val`` scores; ``candidates`` restricts the choice, ``metric`` is the test score
    shown beside it (never used). Every candidate must cover the same seeds, so that no
    method is judged on easier splits. A tie goes to the method listed first in ``runs``."""
    by_method: dict[str, dict[int, tuple[float, float]]] = {}
    for run in runs:
        if is_teacher_run(run) or (candidates is not None and run["model"] not in candidates):
            continue
        if "val" not in run or metric not in run:
            raise ValueError(f"run {run['model']!r} seed {run['seed']} has no 'val' or {metric!r} score")
        by_method.setdefault(run["model"], {})[run["seed"]] = (float(run["val"]), float(run[metric]))
    if candidates is not None and set(candidates) - set(by_method):
        raise ValueError(f"no runs of {sorted(set(candidates) - set(by_method))}; the result holds {sorted(by_method)}")
    if not by_method:
        raise ValueError("the result holds no student runs to choose from")
    seed_sets = {m: tuple(sorted(s)) for m, s in by_method.items()}
    if len(set(seed_sets.values())) > 1:
        raise ValueError(f"students ran different seeds, so their validation means are not comparable: {seed_sets}")
    ranking = []
    for m, scores in by_method.items():
        (vm, vs), (tm, ts) = mean_std([v for v, _ in scores.values()]), mean_std([t for _, t in scores.values()])
        ranking.append((m, vm, vs, tm, ts))
    ranking.sort(key=lambda row: -row[1])  # stable: ties keep the runs' order
    return BestChoice(ranking[0][0], tuple(ranking), next(iter(seed_sets.values())), metric)
