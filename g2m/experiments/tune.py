"""Hyper-parameter search with Optuna: the same trial budget for every method, validation only.

Each dataset TOML declares a search space per method (one table per method; the MLP baseline
gets one too, so every method in a comparison is tuned alike)::

    [tune.link_student.llp]          # or [tune.student.<method>] for node methods
    lr = { low = 1e-4, high = 1e-2, log = true }
    dropout = { low = 0.0, high = 0.6 }
    walks = { low = 1, high = 8 }                  # integers: int bounds
    margin = { choices = [0.05, 0.1, 0.2] }

A trial trains one student (the cached teacher is shared by all trials) and returns its best
validation score (node: the dataset's metric; link: Hits@20 on validation). Optuna's TPE
sampler proposes, its median pruner stops a trial whose validation curve falls below the
median of earlier trials at the same epoch. The study lives in ``<out>/study.db`` (SQLite),
so an interrupted search resumes where it stopped; the budget counts finished and pruned
trials. A study directory belongs to one ``g2m tune`` process at a time (a lock file next to
``study.db`` refuses a second one); trials left ``RUNNING`` by an interrupted process are
marked ``FAIL`` when the study resumes, so they neither count towards the budget nor sit in
the sampler's history as live trials. The best configuration is written as
``<out>/preset.toml``, in the dataset TOML's own ``[hparams...]`` schema, which
``g2m run --preset`` layers over the dataset's presets.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from g2m.errors import G2MError, require
from g2m.methods import LINK_HEURISTICS

if TYPE_CHECKING:
    import optuna

SECTIONS = {"node": "student", "link": "link_student"}


@dataclass(frozen=True)
class Param:
    """One searched hyper-parameter: ``choices``, or a ``[low, high]`` range (int when both
    bounds are ints; ``log`` for a log-uniform draw)."""

    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    @classmethod
    def from_toml(cls, name: str, spec: Any) -> Param:
        if not isinstance(spec, dict):
            raise G2MError(f"search space entry {name!r} must be a table (low/high[/log] or choices), got {spec!r}")
        unknown = set(spec) - {"low", "high", "log", "choices"}
        if unknown:
            raise G2MError(f"search space entry {name!r}: unknown keys {sorted(unknown)}")
        if "choices" in spec:
            if not spec["choices"] or {"low", "high"} & set(spec):
                raise G2MError(f"search space entry {name!r}: give a non-empty choices list, or low and high")
            return cls(name, choices=tuple(spec["choices"]))
        if "low" not in spec or "high" not in spec or not spec["low"] < spec["high"]:
            raise G2MError(f"search space entry {name!r}: needs low < high, got {spec}")
        if spec.get("log") and spec["low"] <= 0:
            raise G2MError(f"search space entry {name!r}: a log range needs low > 0")
        return cls(name, spec["low"], spec["high"], bool(spec.get("log", False)))

    def suggest(self, trial: Any) -> Any:
        if self.choices:
            return trial.suggest_categorical(self.name, list(self.choices))
        if isinstance(self.low, int) and isinstance(self.high, int) and not isinstance(self.low, bool):
            return trial.suggest_int(self.name, self.low, self.high, log=self.log)
        assert self.low is not None and self.high is not None  # a range, not choices (checked when read)
        return trial.suggest_float(self.name, float(self.low), float(self.high), log=self.log)


def search_space(spec: Any, task: str, method: str) -> list[Param]:
    """The ``[tune.<section>.<method>]`` table of a dataset spec, parsed and checked."""
    table = spec.tune.get(SECTIONS[task], {}).get(method)
    if not table:
        from g2m.data.specs import load_specs

        wanted = f"[tune.{SECTIONS[task]}.{method}] table"
        if spec.name in load_specs():
            where = f"add a {wanted} to datasets/{spec.name}.toml (or to a spec file of your own: -d my.toml)"
        elif spec.loader == "file" and spec.description.startswith("graph file"):
            path = spec.loader_args["path"]
            where = (
                f'tune on a spec file (-d my.toml) with loader = "file", loader_args = {{path = "{path}"}} '
                f"and a {wanted}"
            )
        else:
            where = f"add a {wanted} to the spec file"
        raise G2MError(f"{spec.name} declares no search space for {task} method {method!r}: {where}")
    return [Param.from_toml(name, value) for name, value in table.items()]


@dataclass
class TuneResult:
    method: str
    best_value: float
    best_params: dict[str, Any]
    trials: list[dict[str, Any]] = field(default_factory=list)
    study_path: str = ""


def preset_toml(task: str, best: dict[str, dict[str, Any]], source: str) -> str:
    """``[hparams.<section>.<method>]`` tables of the chosen values (the dataset TOML schema)."""
    lines = [f"# Chosen by `g2m tune` on validation only ({source}).", ""]
    for method, params in best.items():
        lines.append(f"[hparams.{SECTIONS[task]}.{method}]")
        for name, value in sorted(params.items()):
            lines.append(f"{name} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise G2MError(f"cannot write {value} to a preset")
        return repr(value)
    return json.dumps(str(value))


@contextmanager
def study_lock(storage_path: Path) -> Iterator[None]:
    """Hold ``<study.db>.lock`` for the duration; a second process on the same study fails fast."""
    from g2m.locks import file_lock

    with file_lock(
        storage_path.with_name(storage_path.name + ".lock"),
        refused=lambda holder: f"{storage_path} is in use by {holder}; wait for it or give this one another --out",
    ):
        yield


def fail_interrupted_trials(study: Any) -> int:
    """Mark the study's ``RUNNING`` trials ``FAIL`` (only called under :func:`study_lock`,
    so no live process owns them); returns how many."""
    opt = require("optuna", "g2m tune", "tune")

    running = [t for t in study.trials if t.state == opt.trial.TrialState.RUNNING]
    for t in running:
        study.tell(t.number, state=opt.trial.TrialState.FAIL)
    return len(running)


def run_study(
    name: str,
    space: list[Param],
    train_trial: Callable[[dict[str, Any], Callable[[int, float], None]], float],
    trials: int,
    storage_path: Path,
    seed: int = 0,
    echo: Callable[[str], None] | None = print,
) -> TuneResult:
    """Run (or resume) study ``name`` in ``storage_path`` until ``trials`` trials are done.

    ``train_trial(params, report)`` trains with ``params`` and returns the best validation
    score; it calls ``report(epoch, val)`` after every epoch, which raises
    ``optuna.TrialPruned`` when the median pruner stops the trial.
    """
    opt = require("optuna", "g2m tune", "tune")

    opt.logging.set_verbosity(opt.logging.WARNING)
    with study_lock(storage_path):
        study = opt.create_study(
            study_name=name,
            storage=f"sqlite:///{storage_path}",
            load_if_exists=True,
            direction="maximize",
            pruner=opt.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=10),
        )
        # a resumed study must not replay the proposals its first process already tried: the
        # sampler's seed moves on with the number of trials the study holds
        study.sampler = opt.samplers.TPESampler(seed=seed + len(study.trials))
        interrupted = fail_interrupted_trials(study)
        if echo is not None and interrupted:
            echo(f"{name}: {interrupted} trial(s) left running by an interrupted process marked failed")
        done_states = (opt.trial.TrialState.COMPLETE, opt.trial.TrialState.PRUNED)
        done = sum(t.state in done_states for t in study.trials)
        if echo is not None and done:
            echo(f"{name}: resuming, {done} of {trials} trials done")

        def objective(trial: optuna.Trial) -> float:
            params = {p.name: p.suggest(trial) for p in space}

            def report(epoch: int, val: float) -> None:
                trial.report(val, epoch)
                if trial.should_prune():
                    raise opt.TrialPruned()

            return train_trial(params, report)

        def log(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            if echo is None:
                return
            n = sum(t.state in done_states for t in study.trials)
            state = "pruned" if trial.state == opt.trial.TrialState.PRUNED else f"val {trial.value:.4f}"
            finished = any(t.state == opt.trial.TrialState.COMPLETE for t in study.trials)
            best = study.best_value if finished else math.nan
            echo(f"{name}: trial {n}/{trials}: {state}, best {best:.4f} ({_short(trial.params)})")

        if trials > done:
            study.optimize(objective, n_trials=trials - done, callbacks=[log], catch=())
        complete = [t for t in study.trials if t.state == opt.trial.TrialState.COMPLETE]
        if not complete:
            raise G2MError(f"{name}: no trial finished (all {len(study.trials)} pruned or failed)")
        return TuneResult(
            name,
            study.best_value,
            dict(study.best_params),
            [{"number": t.number, "state": t.state.name, "value": t.value, "params": t.params} for t in study.trials],
            str(storage_path),
        )


def _short(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


def tune_methods(
    dataset: str,
    task: str,
    methods: list[str],
    trials: int,
    out: str | Path,
    teacher: str = "sage",
    seed: int = 0,
    setting: str = "transductive",
    data_root: str | None = None,
    cache_dir: str | Path | None = None,
    fixed: dict[str, Any] | None = None,
    progress: bool = True,
    echo: Callable[[str], None] | None = print,
    split: str | None = None,
    device: Any = None,
    recipe: str | None = None,
) -> dict[str, TuneResult]:
    """Tune every method with ``trials`` trials on split/teacher ``seed``; write ``preset.toml``
    and ``tune.json`` under ``out``. ``fixed`` overrides hold for every trial (e.g. epochs);
    ``split`` names a node split protocol (default: the dataset's, e.g. ``glnn`` for GLNN/CPF's);
    ``recipe`` (node tasks) a paper's teacher and student loop the trials run inside
    (``datasets/recipes``), the search spaces staying the dataset's; its preset then goes with
    ``g2m run --recipe`` of the same name."""
    from g2m.cache import TeacherCache
    from g2m.data import load_dataset, make_node_split
    from g2m.data.specs import get_spec, with_recipe
    from g2m.data.splits import protocol_graph
    from g2m.files import atomic_write_text

    if task not in SECTIONS:
        raise G2MError(f"unknown task {task!r}; choose node or link")
    if trials < 1:
        raise G2MError("--trials must be at least 1")
    if split is not None and task == "link":
        raise G2MError("--split names a node split protocol; link tasks split edges (use --setting)")
    if recipe is not None and task == "link":
        raise G2MError("--recipe applies to node tasks (the recipes set node teachers and students)")
    try:
        spec = get_spec(dataset) if recipe is None else with_recipe(get_spec(dataset), recipe, teacher)
    except ValueError as err:
        raise G2MError(str(err)) from None
    split_name = None if task == "link" else split or spec.split
    spaces = {m: search_space(spec, task, m) for m in methods}  # every space checked before training
    if task == "link" and teacher in LINK_HEURISTICS:  # a heuristic has no scorer dropout to choose
        spaces = {m: [p for p in space if p.name != "teacher_score_dropout"] for m, space in spaces.items()}
    fixed = dict(fixed or {})
    out = Path(out)
    # methods tuned in earlier calls on this study directory stay in the outputs
    record_path = out / "tune.json"
    record = json.loads(record_path.read_text()) if record_path.is_file() else {"methods": {}}
    if (
        record.get("split", split_name) != split_name
        or record.get("setting", setting) != setting
        or record.get("recipe", None if record["methods"] else recipe) != recipe  # older records: no recipe
    ):
        raise G2MError(
            f"{out} holds a study of another split, setting or recipe ({record.get('split')}, "
            f"{record.get('setting')}, {record.get('recipe')}); give this one another --out"
        )
    cache = TeacherCache(cache_dir)
    train: Callable[[str, dict[str, Any], Callable[[int, float], None]], float]
    if task == "link":
        from torch import Tensor

        from g2m.config import link_student_config, link_teacher_config
        from g2m.experiments.link import get_link_teacher, link_split_for
        from g2m.teachers.heuristic import HeuristicScorer
        from g2m.teachers.link import LinkScorer
        from g2m.training.link import distill_link_student

        graph = load_dataset(dataset, data_root)
        edge_split = link_split_for(graph, spec, setting, seed)
        emb: Tensor | None
        scorer: LinkScorer | HeuristicScorer
        if teacher in LINK_HEURISTICS:  # EHDM: no teacher to train
            emb, scorer = None, HeuristicScorer(teacher, edge_split.message_edge_index, graph.num_nodes)
        else:
            emb, scorer, _, _ = get_link_teacher(
                graph, edge_split, link_teacher_config(spec, teacher), seed, cache, progress, device=device
            )

        def train(method: str, params: dict[str, Any], report: Callable[[int, float], None]) -> float:
            cfg = link_student_config(spec, method, **{**fixed, **params})
            return distill_link_student(
                graph, edge_split, emb, scorer, cfg, seed, False, report, device=device
            ).fit.best_val
    else:
        from g2m.config import student_config, teacher_config
        from g2m.experiments.teachers import get_node_teacher
        from g2m.training.node_student import distill_node_student

        assert split_name is not None  # a node study always has its split (the dataset's by default)
        graph = protocol_graph(load_dataset(dataset, data_root), split_name)
        node_split = make_node_split(graph, split_name, setting, seed)
        knowledge, _, _ = get_node_teacher(
            graph, node_split, teacher_config(spec, teacher), seed, spec.metric, cache, progress, device=device
        )

        def train(method: str, params: dict[str, Any], report: Callable[[int, float], None]) -> float:
            cfg = student_config(spec, method, teacher, **{**fixed, **params})
            student = distill_node_student(
                graph,
                node_split,
                knowledge,
                cfg,
                seed,
                spec.metric,
                False,
                report,
                device=device,
            )
            return student.fit.best_val

    results = {}
    # a node study off the dataset's default split names its split (older study names stay valid)
    where = setting if split is None else f"{setting}-{split_name}"
    loop = "" if recipe is None else f"-{recipe}"
    for method in methods:
        name = f"{dataset}-{task}-{where}-{teacher}-seed{seed}-{method}{loop}"

        results[method] = run_study(name, spaces[method], partial(train, method), trials, out / "study.db", seed, echo)
    record.update(
        {
            "dataset": dataset,
            "task": task,
            "setting": setting,
            "split": split_name,
            "teacher": teacher,
            "seed": seed,
            "fixed": fixed,
            **({} if recipe is None else {"recipe": recipe}),
        }
    )
    for m, r in results.items():
        record["methods"][m] = {
            "trials_budget": trials,
            "best_value": r.best_value,
            "best_params": r.best_params,
            "trials": r.trials,
        }
    where_text = setting if split_name is None else f"{setting}, {split_name} split"
    if recipe is not None:
        where_text += f", {recipe} recipe (g2m run --recipe {recipe})"
    source = f"{dataset}, {task}, {where_text}, {teacher} teacher, split/teacher seed {seed}, " + ", ".join(
        f"{m}: {v['trials_budget']} trials" for m, v in record["methods"].items()
    )
    best = {m: v["best_params"] for m, v in record["methods"].items()}
    atomic_write_text(out / "preset.toml", preset_toml(task, best, source))
    atomic_write_text(record_path, json.dumps(record, indent=2))
    return results
