"""Node-classification experiments over several seeds."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
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
from g2m.experiments.teachers import get_node_teacher
from g2m.losses.objectives import check_method
from g2m.methods import NODE_TEACHERS
from g2m.students.io import save_student
from g2m.training.checkpoint import student_checkpoint
from g2m.training.node_student import distill_node_student


def experiment_spec(
    dataset: str, preset: str | None, recipe: str | None = None, teacher: str | None = None
) -> DatasetSpec:
    """The dataset's spec: its node presets replaced by a recipe's (:func:`~g2m.data.specs.with_recipe`,
    checked against ``teacher``), then a ``g2m tune`` preset file layered over them."""
    spec = get_spec(dataset)
    if recipe is not None:
        spec = with_recipe(spec, recipe, teacher)
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

    def __post_init__(self) -> None:
        if self.teacher not in NODE_TEACHERS:
            raise ValueError(f"unknown teacher {self.teacher!r}; choose one of {NODE_TEACHERS}")
        if not self.methods:
            raise ValueError("no student methods given (e.g. --methods mlp,glnn,ffg2m)")
        for m in self.methods:
            check_method(m)
        check_seed_range(self.first_seed, self.seeds)


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
    return Path(exp.save_students or ".") / f"{method}-seed{seed}"


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
    spec = experiment_spec(exp.dataset, exp.preset, exp.recipe, exp.teacher)
    if spec.task != "node":
        raise ValueError(f"dataset {exp.dataset!r} is a {spec.task} dataset, not node classification")
    split_name = exp.split or spec.split
    graph = protocol_graph(
        dist.main_first(lambda: load_dataset(exp.dataset, exp.data_root, **exp.dataset_overrides)), split_name
    )
    metric = spec.metric
    tcfg = teacher_config(spec, exp.teacher, **exp.teacher_overrides)
    scfgs: dict[str, StudentConfig] = {
        m: student_config(spec, m, exp.teacher, **exp.student_overrides) for m in exp.methods
    }
    coded = [m for m, cfg in scfgs.items() if cfg.token_weight > 0]
    if coded and tcfg.model != "vqgcn":
        raise ValueError(
            f"{', '.join(coded)} distil VQGraph's codes, which a {tcfg.model} teacher has none of: use -t vqgcn "
            "(or --recipe vqgraph)"
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
        knowledge, t_scores, cached = get_node_teacher(
            graph, split, tcfg, seed, metric, cache, progress, exp.refresh, device
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
                "cached": cached,
                **_with_prod(t_scores, exp.inductive_fraction),
                **({} if knowledge.train_seconds is None else {"seconds": knowledge.train_seconds}),
            }
        )
        for method, scfg in scfgs.items():
            tag = f"{config_tag(tcfg)}-{config_tag(scfg)}-{split.key()}"

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
                    meta = student_meta(exp.dataset, exp.teacher, split, exp.inductive_fraction, metric, out.scores)
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
        "teacher_config": asdict(tcfg),
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
