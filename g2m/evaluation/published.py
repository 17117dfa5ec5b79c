r"""A paper's published numbers, and a run measured against them.

Each recipe (``datasets/recipes/<name>.toml``) records the numbers its paper publishes,
beside the settings that produce them, one table per dataset and setting::

    [cora.published]
    source = "GLNN (Zhang et al., ICLR 2022): Table 1 (transductive), Table 3 (production)"
    [cora.published.transductive]
    teacher = {test = [80.52, 1.77]}   # mean, std in %; the key "teacher" is the teacher's row
    glnn = {test = [80.54, 1.35]}
    [cora.published.inductive]
    glnn = {test = [79.39, 1.64], test_ind = [73.82, 1.93], prod = [78.28]}   # std not given

A run's mean :math:`\bar x` is *within one published std* of a published
:math:`\mu \pm \sigma` when :math:`|\bar x - \mu| \le \sigma`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from g2m.evaluation.report import is_teacher_run, mean_std
from g2m.evaluation.results import RunRow


@dataclass(frozen=True)
class PublishedScore:
    """One published number: a mean and, when the paper gives it, a standard deviation (in %)."""

    mean: float
    std: float | None = None

    def __str__(self) -> str:
        return f"{self.mean:.2f}" if self.std is None else f"{self.mean:.2f} +- {self.std:.2f}"


@dataclass(frozen=True)
class PublishedTable:
    """A paper's numbers for one dataset and setting, as one recipe records them.

    Args:
        recipe: The recipe that records them (``glnn``, ``nosmog``, ...).
        dataset: Registered dataset name.
        setting: ``transductive`` | ``inductive``.
        source: The paper and the table the numbers come from.
        scores: ``{method: {metric: score}}``; method ``teacher`` is the teacher's row, metrics
            are the per-seed keys of a results file (``test``, ``test_ind``, ``prod``).
    """

    recipe: str
    dataset: str
    setting: str
    source: str
    scores: dict[str, dict[str, PublishedScore]]

    def best(self, metric: str = "test") -> tuple[str, PublishedScore]:
        """The student with the highest published mean on ``metric``."""
        students = [(m, s[metric]) for m, s in self.scores.items() if m != "teacher" and metric in s]
        if not students:
            raise ValueError(f"{self.recipe}'s published {self.dataset} numbers hold no student {metric!r} score")
        return max(students, key=lambda item: item[1].mean)


def _score(value: object, where: str) -> PublishedScore:
    if (
        not isinstance(value, list)
        or len(value) not in (1, 2)
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    ):
        raise ValueError(f"{where}: a published score is [mean] or [mean, std] in %, got {value!r}")
    return PublishedScore(float(value[0]), float(value[1]) if len(value) == 2 else None)


def published_table(recipe: str, dataset: str, setting: str) -> PublishedTable:
    """The numbers recipe ``recipe`` records as published for ``dataset`` in ``setting``.

    Raises:
        ValueError: the recipe is unknown, or records no such numbers (the message lists what it has).
    """
    from g2m.data.specs import read_recipe

    tables = read_recipe(recipe)
    published = tables.get(dataset, {}).get("published", {})
    if not isinstance(published.get(setting), dict):
        have = [
            f"{d} {s}"
            for d, t in sorted(tables.items())
            if isinstance(t, dict)
            for s, v in t.get("published", {}).items()
            if isinstance(v, dict)  # a setting's table, not the source line
        ]
        raise ValueError(
            f"recipe {recipe!r} records no published {dataset} {setting} numbers"
            + (f"; it records {', '.join(have)}" if have else "")
        )
    where = f"recipe {recipe} [{dataset}.published.{setting}]"
    scores: dict[str, dict[str, PublishedScore]] = {}
    for method, metrics in published[setting].items():
        if not isinstance(metrics, dict):
            raise ValueError(f"{where}: {method} = {{metric = [mean, std], ...}}, got {metrics!r}")
        scores[method] = {metric: _score(v, f"{where} {method}.{metric}") for metric, v in metrics.items()}
    return PublishedTable(recipe, dataset, setting, str(published.get("source", recipe)), scores)


@dataclass(frozen=True)
class AgainstPublished:
    """A run's mean per method and metric beside the published one.

    ``rows``: ``(method, metric, mean %, std %, published)``, in the published table's order.
    """

    table: PublishedTable
    seeds: tuple[int, ...]
    rows: tuple[tuple[str, str, float, float, PublishedScore], ...]

    @staticmethod
    def verdict(mean: float, published: PublishedScore) -> str:
        """``yes`` / ``no (x.xx outside)`` / ``no std published``: is ``mean`` within one published std?"""
        if published.std is None:
            return "no std published"
        outside = abs(mean - published.mean) - published.std
        return "yes" if outside <= 1e-9 else f"no ({outside:.2f} outside)"

    def describe(self) -> str:
        t = self.table
        lines = [
            f"{t.dataset}, {t.setting}, {len(self.seeds)} seeds, against {t.source} "
            f"(datasets/recipes/{t.recipe}.toml):",
            f"  {'method':<12} {'metric':<9} {'g2m':<15} {'published':<15} {'difference':<11} within one published std",
        ]
        for method, metric, mean, std, pub in self.rows:
            g2m = f"{mean:.2f} +- {std:.2f}"
            lines.append(
                f"  {method:<12} {metric:<9} {g2m:<15} {str(pub):<15} {mean - pub.mean:<+11.2f} "
                f"{self.verdict(mean, pub)}"
            )
        return "\n".join(lines)


def against_published(runs: Sequence[RunRow], table: PublishedTable, scale: float = 100.0) -> AgainstPublished:
    """Every method and metric of ``table`` that the per-seed ``runs`` hold, mean ± std over
    their seeds (scores times ``scale``) beside the published number.

    Raises:
        ValueError: the runs hold none of the published methods.
    """
    rows: list[tuple[str, str, float, float, PublishedScore]] = []
    seeds: set[int] = set()
    for method, metrics in table.scores.items():
        mine = [r for r in runs if (is_teacher_run(r) if method == "teacher" else r["model"] == method)]
        for metric, pub in metrics.items():
            values = [float(r[metric]) for r in mine if metric in r]
            if values:
                mean, std = mean_std([scale * v for v in values])
                rows.append((method, metric, mean, std, pub))
                seeds |= {int(r["seed"]) for r in mine if metric in r}
    if not rows:
        raise ValueError(
            f"the result holds none of the methods {table.source} publishes ({', '.join(table.scores)}); "
            f"it holds {sorted({r['model'] for r in runs})}"
        )
    return AgainstPublished(table, tuple(sorted(seeds)), tuple(rows))


def short_of_best(test_means: Sequence[tuple[str, float]], table: PublishedTable, metric: str = "test") -> str:
    """One line per chosen student (``(method, test mean in %)``) against the best published student."""
    name, best = table.best(metric)
    lines = [f"best published ({table.source}): {name} {best}"]
    for method, mean in test_means:
        gap = round(mean - best.mean, 2)
        where = f"{abs(gap):.2f} above it" if gap > 0 else f"{abs(gap):.2f} below it" if gap < 0 else "level with it"
        lines.append(f"  {method}: {metric} {mean:.2f}, {where}")
    return "\n".join(lines)
