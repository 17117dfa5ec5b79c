"""Node-classification experiments over several seeds."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from g2m import distributed as dist
from g2m.cache import TeacherCache
from g2m.cache.keys import config_tag
from g2m.config import StudentConfig, student_config, teacher_config
from g2m.data.registry import load_dataset
from g2m.data.specs import DatasetSpec, get_spec, read_preset, with_preset, with_recipe
from g2m.data.splits import NodeSplit, make_node_split, protocol_graph
from g2m.device import device_record, resolve_device
from g2m.evaluation.homophily import homophily_report, warn_if_heterophilous
from g2m.evaluation.report import node_result_table, summarize
from g2m.evaluation.results import Results, RunRow
from g2m.experiments.progress import RunLog, fingerprint, reuse_or_train
from g2m.experiments.seeds import check_seed_range, seed_range, seeds_label
from g2m.experiments.teachers import choose_node_teacher
from g2m.losses.objectives import check_method
from g2m.methods import BEST_TEACHER, TEACHER_CANDIDATES, parse_node_teacher
from g2m.students.io import save_student, student_folder
from g2m.training.checkpoint import student_checkpoint
from g2m.training.node_student import distill_node_student


def experiment_spec(
    dataset: str, preset: str | None, recipe: str | None = None, teacher: str | Sequence[str] | None = None
) -> DatasetSpec:
    """The dataset's spec: its node presets replaced by a recipe's (:func:`~g2m.data.specs.with_recipe`,
    checked against ``teacher``, or against each of several), then a ``g2m tune`` preset file
    layered over them."""
    spec = get_spec(dataset)
    if recipe is not None:
        teachers = [teacher] if teacher is None or isinstance(teacher, str) else list(teacher)
        spec = [with_recipe(spec, recipe, t) for t in teachers][-1]
    return spec if preset is None else with_preset(spec, read_preset(preset))


@dataclass
class NodeExperiment:
    dataset: str
    teacher: str = "gcn"
    methods: tuple[str, ...] = ("mlp", "glnn", "lfd", "hfd", "ffg2m")
    seeds: int = 5
    setting: str = "transductive"
    first_seed: int = 0  # seeds first_seed .. first_seed + seeds - 1
    split: str | None = None  # None: the dataset's default protocol
    inductive_fraction: float = 0.2
    data_root: str | None = None
    cache_dir: str | None = None
    use_cache: bool = True
    teacher_overrides: dict[str, Any] = field(default_factory=dict)
    student_overrides: dict[str, Any] = field(default_factory=dict)
    dataset_overrides: dict[str, Any] = field(default_factory=dict)
    refresh: bool = False  # retrain teachers even when cached
    save_students: str | None = None  # a directory: every student saved as <method>-seed<k>/
    preset: str | None = None  # a preset file (`g2m tune`'s preset.toml) layered over the dataset's
    recipe: str | None = None  # a paper's teacher and student loop (datasets/recipes), replacing the dataset's
    #: with teacher "best": the teachers validation chooses among, per seed (a GNN, or one with "+cs")
    candidates: tuple[str, ...] = TEACHER_CANDIDATES

    def __post_init__(self) -> None:
        self.candidates = tuple(self.candidates)
        if self.teacher == BEST_TEACHER and not self.candidates:
            raise ValueError(f"teacher {BEST_TEACHER!r} needs candidate teachers (e.g. gcn,sage,sage+cs)")
        for name in self.teacher_names():
            parse_node_teacher(name)
        if self.teacher != BEST_TEACHER and self.candidates != TEACHER_CANDIDATES:
            raise ValueError(f"candidate teachers go with teacher {BEST_TEACHER!r}, not {self.teacher!r}")
        if not self.methods:
            raise ValueError("no student methods given (e.g. --methods mlp,glnn,ffg2m)")
        for m in self.methods:
            check_method(m)
        check_seed_range(self.first_seed, self.seeds)

    def teacher_names(self) -> tuple[str, ...]:
        """The teachers this experiment may use: the candidates of ``best``, else the one named."""
        return teacher_names(self.teacher, self.candidates)

    def teacher_models(self) -> tuple[str, ...]:
        """The GNNs behind :meth:`teacher_names` (``sage+cs`` is a sage GNN), each once."""
        return tuple(dict.fromkeys(parse_node_teacher(name)[0] for name in self.teacher_names()))


def teacher_names(teacher: str, candidates: Sequence[str] = TEACHER_CANDIDATES) -> tuple[str, ...]:
    """The teachers a node experiment with ``teacher`` may use: ``candidates`` for ``best``, else
    ``teacher`` alone (also read from a results file's settings, :mod:`g2m.experiments.merge`)."""
    return tuple(candidates) if teacher == BEST_TEACHER else (teacher,)


def _with_prod(scores: dict[str, float], fraction: float) -> dict[str, float]:
    """GLNN's production score (``train_student.py``): ``(1 - f) * tran + f * ind``, where
    ``f`` is the share of test nodes held out (0.2: ``0.8 tran + 0.2 ind``)."""
    if "test_ind" not in scores:
        return scores
    return {**scores, "prod": (1.0 - fraction) * scores["test"] + fraction * scores["test_ind"]}


def student_meta(
    dataset: str, teacher: str, split: NodeSplit, inductive_fraction: float, metric: str, scores: dict[str, float]
) -> dict[str, Any]:
    """What a saved student records so that `g2m eval` can rebuild its split."""
    return {
        "dataset": dataset,
        "teacher": teacher,
        "seed": split.seed,
        "setting": split.setting,
        "split": split.name,
        "split_key": split.key(),
        "inductive_fraction": inductive_fraction,
        "metric": metric,
        "scores": scores,
    }


def _student_dir(exp: NodeExperiment, method: str, seed: int) -> Path:
    return student_folder(exp.save_students or ".", method, seed)


def shared_student_configs(
    spec: DatasetSpec, methods: Sequence[str], teachers: Sequence[str], overrides: dict[str, Any]
) -> dict[str, StudentConfig]:
    """Each method's student configuration, which must be the same whichever of ``teachers`` it
    learns from: choosing the teacher on validation varies the teacher alone. A clear error
    otherwise (presets given per teacher, as the FF-G2M ones are)."""
    configs = {m: student_config(spec, m, teachers[0], **overrides) for m in methods}
    for other in teachers[1:]:
        for m, config in configs.items():
            theirs = student_config(spec, m, other, **overrides)
            if theirs != config:
                differ = [f.name for f in fields(config) if getattr(config, f.name) != getattr(theirs, f.name)]
                raise ValueError(
                    f"{spec.name}'s presets train {m!r} differently from a {teachers[0]} and from a {other} teacher "
                    f"({', '.join(differ)}), so that choosing the teacher would change the student too: choose "
                    f"among teachers that share the student's presets (e.g. --recipe glnn), or set "
                    f"{', '.join(differ)} with --set"
                )
    return configs


def run_node_experiment(
    exp: NodeExperiment,
    progress: bool = True,
    resume: str | None = None,
    device: str | torch.device | None = None,
    checkpoints: str | None = None,
    checkpoint_seconds: float = 60.0,
) -> Results:
    """Teacher and every student method over the experiment's seeds, on ``device`` (default
    ``auto``; recorded in the result, not part of the experiment: parts run on other devices
    merge).

    ``resume``: a progress file (JSON lines); every finished student is recorded there,
    and students already recorded for this experiment and configuration are not
    retrained. The caller removes it once the results are written.

    ``checkpoints``: a folder where each student saves its training state every
    ``checkpoint_seconds`` (:mod:`g2m.training.checkpoint`), so that a resumed run continues an
    interrupted student where it stopped, with the result an uninterrupted run gives.

    ``compute_seconds`` in the result is the training time of every teacher and student in the
    table, whichever process trained it (a resumed student counts its time before the
    interruption; a teacher read from the cache counts the time it took to train)."""
    device = resolve_device(device)
    models = exp.teacher_models()
    spec = experiment_spec(exp.dataset, exp.preset, exp.recipe, models)
    if spec.task != "node":
        raise ValueError(f"dataset {exp.dataset!r} is a {spec.task} dataset, not node classification")
    split_name = exp.split or spec.split
    metric = spec.metric
    tcfgs = {model: teacher_config(spec, model, **exp.teacher_overrides) for model in models}
    scfgs = shared_student_configs(spec, exp.methods, models, exp.student_overrides)
    coded = [m for m, cfg in scfgs.items() if cfg.token_weight > 0]
    if coded and set(models) != {"vqgcn"}:
        raise ValueError(
            f"{', '.join(coded)} distil VQGraph's codes, which a {' / '.join(models)} teacher has none of: use -t "
            "vqgcn (or --recipe vqgraph)"
        )
    # the configurations are checked before the graph is read
    graph = protocol_graph(
        dist.main_first(lambda: load_dataset(exp.dataset, exp.data_root, **exp.dataset_overrides)), split_name
    )
    cache = TeacherCache(exp.cache_dir) if exp.use_cache else None
    log = None
    if resume is not None and not exp.refresh:
        log = RunLog(
            resume,
            fingerprint(
                exp.dataset, exp.setting, split_name, exp.inductive_fraction, exp.dataset_overrides, exp.teacher
            ),
            announce=progress,
        )
    runs: list[RunRow] = []
    estimates: list[dict[str, Any]] = []
    started = time.perf_counter()
    for seed in seed_range(exp.first_seed, exp.seeds):
        split = make_node_split(graph, split_name, exp.setting, seed, exp.inductive_fraction)
        teacher = choose_node_teacher(
            graph, split, tcfgs, exp.teacher_names(), seed, metric, cache, progress, exp.refresh, device
        )
        knowledge = teacher.knowledge
        choice: dict[str, Any] = {}  # how validation chose the teacher (-t best), in the teacher's row
        if exp.teacher == BEST_TEACHER:
            choice = {"chosen": teacher.name, "candidates": teacher.candidates}
            if teacher.alphas:
                choice["alphas"] = teacher.alphas
            if progress:
                print(
                    f"seed {seed}: teacher {teacher.name} chosen on validation ({100 * teacher.scores['val']:.2f})",
                    file=sys.stderr,
                )
        logits = knowledge.logits
        report = homophily_report(
            graph.edge_index, graph.require_labels(), torch.cat([split.train, split.val]), logits.argmax(-1)
        )
        if not estimates:
            warn_if_heterophilous(report, exp.methods, exp.dataset)
        estimates.append({"seed": seed, **report.as_dict()})
        runs.append(
            {
                "model": f"teacher ({exp.teacher})",
                "seed": seed,
                "cached": teacher.cached,
                **choice,
                **_with_prod(teacher.scores, exp.inductive_fraction),
                **({} if teacher.train_seconds is None else {"seconds": teacher.train_seconds}),
            }
        )
        smoothing = "" if teacher.alphas is None else "-cs{}-{}".format(*teacher.alphas)
        for method, scfg in scfgs.items():
            tag = f"{config_tag(teacher.config)}{smoothing}-{config_tag(scfg)}-{split.key()}"

            def train() -> RunRow:  # called at once, in this iteration
                ckpt = student_checkpoint(checkpoints, method, seed, tag, checkpoint_seconds)
                out = distill_node_student(
                    graph,
                    split,
                    knowledge,
                    scfg,
                    seed,
                    metric,
                    progress,
                    device=device,
                    checkpoint=ckpt,
                )
                if exp.save_students is not None:
                    meta = student_meta(exp.dataset, teacher.name, split, exp.inductive_fraction, metric, out.scores)
                    save_student(
                        _student_dir(exp, method, seed), out.model, scfg, {**meta, **out.guard_record()}, out.position
                    )
                return {
                    "model": method,
                    "seed": seed,
                    **_with_prod(out.scores, exp.inductive_fraction),
                    "epochs_run": out.fit.epochs_run,
                    "seconds_per_epoch": out.fit.seconds_per_epoch,
                    "seconds": out.fit.seconds,
                    **out.guard_record(),
                }

            # a saved student must still be on disk for its row to be reused
            reuse = exp.save_students is None or _student_dir(exp, method, seed).is_dir()
            runs.append(reuse_or_train(log, method, seed, tag, train, reuse))
    summary = summarize(runs)
    title = (
        f"{exp.dataset}, {split_name} split, {exp.setting}, {exp.teacher} teacher, {metric} (%), "
        f"{seeds_label(exp.first_seed, exp.seeds)}"
    )
    homophily = {"edge": estimates[0]["edge"], "adjusted": estimates[0]["adjusted"], "per_seed": estimates}
    return {
        "experiment": asdict(exp),
        "metric": metric,
        "teacher_config": (
            asdict(tcfgs[models[0]])
            if exp.teacher != BEST_TEACHER
            else {"model": BEST_TEACHER, "candidates": {m: asdict(c) for m, c in tcfgs.items()}}
        ),
        "student_configs": {m: asdict(c) for m, c in scfgs.items()},
        "runs": runs,
        "summary": summary,
        "title": title,
        "homophily": homophily,
        "table": node_result_table(summary, title, homophily, runs),
        "seconds": time.perf_counter() - started,
        "compute_seconds": sum(r.get("seconds", 0.0) for r in runs),
        "torch_threads": torch.get_num_threads(),  # the digits depend on it (see the link runner)
        "device": device_record(device),
    }
