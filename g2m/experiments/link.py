"""Link-prediction experiments over several seeds (teacher cached, then students)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor

from g2m.cache import CacheKey, TeacherCache, load_cached_teacher, read_meta
from g2m.cache.keys import config_tag, link_teacher_cache_key
from g2m.config import LinkTeacherConfig, link_student_config, link_teacher_config
from g2m.data.graph import Graph
from g2m.data.link_splits import LinkSplit, make_link_split
from g2m.data.registry import load_dataset
from g2m.data.specs import DatasetSpec
from g2m.device import device_record, resolve_device
from g2m.distributed import main_first
from g2m.errors import G2MError
from g2m.evaluation.report import markdown_table, summarize_runs
from g2m.evaluation.results import Results, RunRow
from g2m.experiments.node import experiment_spec
from g2m.experiments.progress import RunLog, fingerprint, reuse_or_train
from g2m.experiments.seeds import check_seed_range, seed_range, seeds_label
from g2m.losses.link_objectives import LINK_METHODS, check_link_method
from g2m.methods import LINK_HEURISTICS, TEACHERS
from g2m.students.io import save_link_student, student_folder
from g2m.teachers.heuristic import HeuristicScorer
from g2m.teachers.link import LinkScorer
from g2m.training.checkpoint import student_checkpoint
from g2m.training.link import distill_link_student, evaluate_heuristic, train_link_teacher


def _scorer_from_record(tensors: dict[str, Tensor], meta: dict[str, Any]) -> LinkScorer:
    scorer = LinkScorer(meta["scorer"], meta["embedding_dim"], meta.get("scorer_hidden"))
    scorer.load_state_dict({k[len("scorer.") :]: v for k, v in tensors.items() if k.startswith("scorer.")})
    return scorer.eval()


def get_link_teacher(
    graph: Graph,
    split: LinkSplit,
    config: LinkTeacherConfig,
    seed: int,
    cache: TeacherCache | None,
    progress: bool = True,
    path: str | None = None,
    refresh: bool = False,
    device: str | torch.device | None = None,
) -> tuple[Tensor, LinkScorer, dict[str, float], bool]:
    """Teacher embeddings, scorer and scores: from ``path`` or the cache if present, else
    trained (``refresh``: retrained even when cached)."""
    key = link_teacher_cache_key(graph.name, split, config, seed)
    if path is not None:
        # an explicit cache may hold any hyper-parameters of the same teacher model
        stored = read_meta(path)["key"]["model"]
        if stored.startswith(f"{config.model}-"):
            key = CacheKey(key.dataset, key.task, key.split, stored, key.seed)
    if path is not None:
        record = load_cached_teacher(path, expect=key)
        return (
            record.tensors["embeddings"],
            _scorer_from_record(record.tensors, record.meta),
            record.meta["scores"],
            True,
        )
    if cache is None:
        out = train_link_teacher(graph, split, config, seed, progress, device)
        return out.embeddings, out.scorer, out.scores, False
    # one process trains a given teacher; another asking for it meanwhile waits, then reads it
    with cache.entry_lock(key, f"the {config.model} link teacher of {graph.name} (seed {seed})"):
        record = cache.lookup(key, refresh, announce=progress)
        if record is not None:
            return (
                record.tensors["embeddings"],
                _scorer_from_record(record.tensors, record.meta),
                record.meta["scores"],
                True,
            )
        out = train_link_teacher(graph, split, config, seed, progress, device)
        tensors = {"embeddings": out.embeddings, **{f"scorer.{k}": v for k, v in out.scorer.state_dict().items()}}
        cache.save(
            key,
            tensors,
            {
                "scores": out.scores,
                "hparams": asdict(config),
                "setting": split.setting,
                "scorer": out.scorer.kind,
                "embedding_dim": out.scorer.dim,
                "scorer_hidden": out.scorer.hidden,
                "epochs_run": out.fit.epochs_run,
                "seconds_per_epoch": out.fit.seconds_per_epoch,
            },
        )
    return out.embeddings, out.scorer, out.scores, False


def link_student_meta(
    dataset: str, teacher: str, split: LinkSplit, seed: int, scores: dict[str, float]
) -> dict[str, Any]:
    """What a saved link student records so that `g2m eval` can rebuild its split (``split.seed``
    may differ from the student's ``seed``: LLP's protocol, one split for every seed)."""
    return {
        "dataset": dataset,
        "teacher": teacher,
        "seed": seed,
        "setting": split.setting,
        "split_seed": split.seed,
        "split_key": split.key(),
        "metric": "hits@20",
        "scores": scores,
    }


def refuse_heuristic(teacher: str, command: str) -> None:
    """``g2m teacher`` and ``g2m distill`` work on a trained, cached teacher; a heuristic is neither."""
    if teacher in LINK_HEURISTICS:
        raise G2MError(
            f"{teacher} is a heuristic link teacher: it needs no training, so {command} has nothing to do with it; "
            f"g2m run --task link -t {teacher} scores it and teaches its students"
        )


def link_split_for(graph: Graph, spec: DatasetSpec, setting: str, seed: int) -> LinkSplit:
    """The link split of ``graph`` (described by ``spec``: its protocol; a graph file's or a spec
    file's graph is named after the file, so its spec cannot be found again from ``graph.name``)."""
    if spec.split == "ogb":
        return make_link_split(graph, "ogb", seed)
    if setting == "inductive":
        raise G2MError(
            "link prediction calls its inductive setting 'production' (LLP's name: new nodes "
            "arrive with their edges); use --setting production"
        )
    if setting not in ("transductive", "production"):
        raise G2MError(f"unknown link setting {setting!r}; choose transductive or production")
    return make_link_split(graph, setting, seed)


def rebuild_link_split(graph: Graph, spec: DatasetSpec, meta: dict[str, Any]) -> LinkSplit:
    """The split a saved link student (its ``student.json``, :func:`link_student_meta`) was trained on,
    drawn again and checked against the key it recorded."""
    split = link_split_for(graph, spec, meta["setting"], meta["split_seed"])
    if split.key() != meta["split_key"]:
        raise G2MError(f"the link split rebuilt for {meta['dataset']} differs from the one the student was trained on")
    return split


@dataclass
class LinkExperiment:
    dataset: str
    teacher: str = "sage"
    methods: tuple[str, ...] = LINK_METHODS
    seeds: int = 5
    setting: str = "transductive"
    first_seed: int = 0  # seeds first_seed .. first_seed + seeds - 1
    # None: seed k uses split k. An int: every seed uses that one split and varies only
    # initialisation and sampling (LLP's protocol: one saved split, 10 runs)
    split_seed: int | None = None
    # None: seed k trains (or loads) teacher k. An int: one teacher, trained with that
    # seed, serves every student seed (LLP's protocol: one saved teacher)
    teacher_seed: int | None = None
    data_root: str | None = None
    cache_dir: str | None = None
    use_cache: bool = True
    teacher_overrides: dict[str, Any] = field(default_factory=dict)
    student_overrides: dict[str, Any] = field(default_factory=dict)
    refresh: bool = False  # retrain teachers even when cached
    preset: str | None = None  # a preset file (`g2m tune`'s preset.toml) layered over the dataset's
    teacher_candidates: int = 1  # > 1: the best-validation teacher of that many seeds
    save_students: str | None = None  # a folder: each student saved as <method>-seed<seed> (g2m eval, export)

    def __post_init__(self) -> None:
        if self.teacher not in TEACHERS + LINK_HEURISTICS:
            raise ValueError(
                f"unknown link teacher {self.teacher!r}; choose one of {', '.join(TEACHERS + LINK_HEURISTICS)}"
            )
        if self.teacher in LINK_HEURISTICS:
            if "repr" in self.methods:
                raise ValueError(
                    f"repr matches the teacher's node embeddings; the {self.teacher} heuristic has none: drop repr"
                )
            if self.teacher_overrides:
                raise ValueError(
                    f"the {self.teacher} heuristic is not trained: teacher options "
                    f"({', '.join(sorted(self.teacher_overrides))}) do not apply"
                )
            if self.teacher_candidates > 1:
                raise ValueError("--teacher-candidates picks among trained teachers; a heuristic is not trained")
        if self.teacher_candidates < 1:
            raise ValueError(f"teacher_candidates must be at least 1, got {self.teacher_candidates}")
        if not self.methods:
            raise ValueError("no student methods given (e.g. --methods mlp,llp)")
        for m in self.methods:
            check_link_method(m)
        check_seed_range(self.first_seed, self.seeds)
        for name in ("split_seed", "teacher_seed"):
            if getattr(self, name) is not None and getattr(self, name) < 0:
                raise ValueError(f"{name} must be non-negative, got {getattr(self, name)}")


def run_link_experiment(
    exp: LinkExperiment,
    progress: bool = True,
    resume: str | None = None,
    device: str | torch.device | None = None,
    checkpoints: str | None = None,
    checkpoint_seconds: float = 60.0,
) -> Results:
    """Teacher(s) and every link student over the experiment's seeds; ``resume``, ``device``,
    ``checkpoints`` as in :func:`g2m.experiments.node.run_node_experiment`; ``compute_seconds`` is
    the students' training time over every process that contributed."""
    device = resolve_device(device)
    spec = experiment_spec(exp.dataset, exp.preset)
    graph = main_first(lambda: load_dataset(exp.dataset, exp.data_root))
    heuristic = exp.teacher in LINK_HEURISTICS
    tcfg = None if heuristic else link_teacher_config(spec, exp.teacher, **exp.teacher_overrides)
    scfgs = {m: link_student_config(spec, m, **exp.student_overrides) for m in exp.methods}
    cache = TeacherCache(exp.cache_dir) if exp.use_cache else None
    log = None
    if resume is not None and not exp.refresh:
        log = RunLog(resume, fingerprint("link", exp.dataset, exp.setting, exp.teacher), announce=progress)
    runs: list[RunRow] = []
    started = time.perf_counter()
    teachers: dict[tuple[str, int], tuple[Tensor | None, LinkScorer | HeuristicScorer, int]] = {}
    for seed in seed_range(exp.first_seed, exp.seeds):
        split = link_split_for(graph, spec, exp.setting, seed if exp.split_seed is None else exp.split_seed)
        t_seed = seed if exp.teacher_seed is None else exp.teacher_seed
        if heuristic and (split.key(), t_seed) not in teachers:  # scored on the split's training edges
            h_scorer = HeuristicScorer(exp.teacher, split.message_edge_index, graph.num_nodes).to(device)
            teachers[split.key(), t_seed] = None, h_scorer, t_seed
            scores = evaluate_heuristic(h_scorer, split)  # on the scorer's device
            runs.append({"model": f"teacher ({exp.teacher})", "seed": t_seed, "split": split.key(), **scores})
        if (split.key(), t_seed) not in teachers:  # a shared teacher is trained and reported once
            assert tcfg is not None
            # teacher_candidates > 1: teachers t_seed .. t_seed + N - 1, the best validation
            # Hits@20 kept (the first on a tie), as LLP's official protocol picks its teacher
            best: tuple[Tensor, LinkScorer, dict[str, float], bool, int] | None = None
            for cand in range(t_seed, t_seed + exp.teacher_candidates):
                emb, scorer, t_scores, cached = get_link_teacher(
                    graph, split, tcfg, cand, cache, progress, refresh=exp.refresh, device=device
                )
                if best is None or t_scores["val"] > best[2]["val"]:
                    best = (emb, scorer, t_scores, cached, cand)
            assert best is not None
            teachers[split.key(), t_seed] = best[0], best[1], best[4]
            chosen = {"candidates": exp.teacher_candidates} if exp.teacher_candidates > 1 else {}
            runs.append(
                {
                    "model": f"teacher ({exp.teacher})",
                    "seed": best[4],
                    "split": split.key(),
                    "cached": best[3],
                    **chosen,
                    **best[2],
                }
            )
        t_emb, t_scorer, t_chosen = teachers[split.key(), t_seed]
        for method, scfg in scfgs.items():
            taught_by = f"heuristic-{exp.teacher}" if tcfg is None else config_tag(tcfg)
            tag = f"{taught_by}-{t_chosen}-{config_tag(scfg)}-{split.key()}"

            def train() -> RunRow:  # called at once, in this iteration
                ckpt = student_checkpoint(checkpoints, method, seed, tag, checkpoint_seconds)
                out = distill_link_student(
                    graph, split, t_emb, t_scorer, scfg, seed, progress, device=device, checkpoint=ckpt
                )
                if exp.save_students is not None:
                    meta = link_student_meta(exp.dataset, exp.teacher, split, seed, out.scores)
                    save_link_student(student_dir, out.encoder, out.scorer, scfg, meta)
                return {
                    "model": method,
                    "seed": seed,
                    **out.scores,
                    "epochs_run": out.fit.epochs_run,
                    "seconds_per_epoch": out.fit.seconds_per_epoch,
                    "seconds": out.fit.seconds,
                }

            student_dir = student_folder(exp.save_students or ".", method, seed)
            reuse = exp.save_students is None or student_dir.is_dir()  # a student asked to be saved is trained
            runs.append(reuse_or_train(log, method, seed, tag, train, reuse))
    summary = summarize_runs(runs)
    splits = "one split per seed" if exp.split_seed is None else f"split {exp.split_seed} for every seed"
    teachers_used = "a teacher per seed" if exp.teacher_seed is None else f"one teacher (seed {exp.teacher_seed})"
    if heuristic:
        teachers_used = f"the {exp.teacher} heuristic on each split's training edges (nothing trained)"
    if exp.teacher_candidates > 1:
        teachers_used += f", each the best validation of {exp.teacher_candidates} teacher seeds"
    title = (
        f"{exp.dataset}, link {exp.setting}, {exp.teacher} teacher, {seeds_label(exp.first_seed, exp.seeds)}, "
        f"{splits}, {teachers_used} (val = Hits@20 on validation)"
    )
    return {
        "experiment": asdict(exp),
        "teacher_config": {"model": exp.teacher} if tcfg is None else asdict(tcfg),
        "student_configs": {m: asdict(c) for m, c in scfgs.items()},
        "runs": runs,
        "summary": summary,
        "title": title,
        "table": markdown_table(summary, title),
        "seconds": time.perf_counter() - started,
        "compute_seconds": sum(r.get("seconds", 0.0) for r in runs),
        # CPU kernels sum in a thread-count-dependent order: the same seed gives other digits
        # under another thread count (OMP_NUM_THREADS / torch.set_num_threads)
        "torch_threads": torch.get_num_threads(),
        "device": device_record(device),
    }
