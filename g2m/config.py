"""Hyper-parameter configs: code defaults <- dataset preset (``[hparams.*]``) <- explicit overrides."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, TypeVar

from g2m.data.specs import DatasetSpec
from g2m.methods import (
    EDGE_WEIGHTINGS,
    HIDDEN_POINTS,
    LINK_METHODS,
    LINK_SCORERS,
    NORMS,
    POSITION_BACKENDS,
    POSITIONS,
    RANK_AVERAGES,
    RELATIONAL_SCORES,
    RELIABILITIES,
    SAMPLERS,
    SIMILARITY_KERNELS,
    TEACHERS,
    WALKERS,
    node_method_options,
    parse_node_method,
)

T = TypeVar("T")


TIE_BREAKS = ("later", "earlier")

#: field metadata of options added after caches were written: at their default value they
#: stay out of the config hash (:func:`g2m.experiments.node.config_tag`), so existing cached
#: teachers keep their keys
NEW_OPTION = {"omit_default_from_tag": True}


def changed_option(before: Any, inert_when: tuple[str, Any]) -> dict[str, Any]:
    """Field metadata of an option added with a default that changes what older code did:
    ``before`` is the behaviour results written before it existed had. It stays out of the config
    hash at ``before`` (those results keep their tags) and while ``inert_when = (field, value)``
    holds (the option then changes nothing), so that only the configs it changes get new tags."""
    return {"omit_default_from_tag": True, "before": before, "inert_when": inert_when}


#: the valid interval of each numeric option, in interval notation; ``None`` is also allowed
#: where the field's default is ``None``. Checked when a config is built (:func:`check_ranges`)
#: and shown in the CLI's help (:func:`range_of`).
RANGES: dict[str, str] = {
    "hidden": "[1, inf)",
    "num_layers": "[1, inf)",
    "heads": "[1, inf)",
    "dropout": "[0, 1)",
    "input_dropout": "[0, 1)",
    "scorer_dropout": "[0, 1)",
    "lr": "(0, inf)",
    "weight_decay": "[0, inf)",
    "epochs": "[1, inf)",
    "patience": "[1, inf)",
    "batch_size": "[1, inf)",
    "chunk_size": "[1, inf)",
    "lam": "[0, 1]",
    "tau": "(0, inf)",
    "grad_clip": "(0, inf)",
    "position_dim": "[1, inf)",
    "position_walk_length": "[2, inf)",
    "position_walks": "[1, inf)",
    "position_window": "[1, inf)",
    "position_epochs": "[1, inf)",
    "similarity_weight": "[0, inf)",
    "adversarial_eps": "[0, inf)",
    "adversarial_steps": "[1, inf)",
    "adversarial_weight": "[0, inf)",
    "krd_start": "[0, inf)",
    "krd_power": "(0, inf)",
    "krd_momentum": "[0, 1]",
    "krd_bins": "[1, inf)",
    "hfd_edges_per_epoch": "[1, inf)",
    "margin": "[0, inf)",
    "walks": "[1, inf)",
    "hops": "[1, inf)",
    "random_ratio": "[0, inf)",
    "anchors_per_epoch": "[0, inf)",
    "teacher_score_dropout": "[0, 1)",
    "w_sup": "[0, inf)",
    "w_rank": "[0, inf)",
    "w_dist": "[0, inf)",
    "w_logit": "[0, inf)",
    "w_repr": "[0, inf)",
}


def range_of(name: str) -> str:
    """The interval ``name`` must lie in, for help texts (``""`` when it has none)."""
    return RANGES.get(name, "")


def _inside(value: float, interval: str) -> bool:
    low_s, high_s = (part.strip() for part in interval[1:-1].split(","))
    low, high = float(low_s), float(high_s)
    above = value > low if interval[0] == "(" else value >= low
    below = value < high if interval[-1] == ")" else value <= high
    return above and below


def check_ranges(config: Any) -> None:
    """Raise ``ValueError`` naming the first field of ``config`` outside its :data:`RANGES`
    interval (or of the wrong type), and the interval."""
    for f in fields(config):
        interval = RANGES.get(f.name)
        value = getattr(config, f.name)
        if interval is None or (value is None and f.default is None):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{type(config).__name__}.{f.name} must be a number in {interval}, got {value!r}")
        if not _inside(value, interval):
            raise ValueError(f"{f.name} must be in {interval}, got {value}")


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def check_tie_break(value: str) -> str:
    if value not in TIE_BREAKS:
        raise ValueError(f"tie_break must be one of {TIE_BREAKS}, got {value!r}")
    return value


class _GNNKwargs:
    """Keyword arguments of :class:`g2m.teachers.models.GNN` from a teacher config."""

    model: str
    heads: int

    def model_kwargs(self) -> dict[str, Any]:
        kw = {k: getattr(self, k) for k in ("hidden", "num_layers", "dropout", "norm")}
        if self.model == "gat":
            kw["heads"] = self.heads
        for optional in ("input_dropout", "sage_aggr", "hidden_at"):  # node teachers only
            if hasattr(self, optional):
                kw[optional] = getattr(self, optional)
        return kw


@dataclass(frozen=True)
class TeacherConfig(_GNNKwargs):
    model: str = "gcn"
    hidden: int = 256
    num_layers: int = 2
    dropout: float = 0.5
    norm: str = "none"
    heads: int = 8
    lr: float = 0.01
    weight_decay: float = 5e-4
    epochs: int = 500
    patience: int = 50
    batch_size: int | None = None  # None: full batch; else seed nodes per neighbour-sampled batch
    fanouts: tuple[int, ...] = (15, 10)  # neighbours sampled per hop in mini-batch mode (-1: all)
    # mini-batch neighbour sampler: "pyg" (PyG's NeighborLoader) | "g2m" (CSR sampler) |
    # "auto" (PyG's when pyg-lib or torch-sparse is installed); see g2m.data.neighbour_sampler
    sampler: str = field(default="auto", metadata=NEW_OPTION)
    # dropout on the input features; None: the same rate as ``dropout`` (Kipf's GCN).
    # The official GLNN / FF-G2M teachers drop out hidden layers only (input_dropout = 0).
    input_dropout: float | None = None
    # SAGE neighbourhood: "mean" (PyG's SAGEConv, separate root weight) | "gcn" (DGL's
    # gcn aggregator, W * mean over N(i) and i itself: the GLNN and FF-G2M teachers)
    sage_aggr: str = "mean"
    # an epoch whose validation score ties the best: "later" makes it the best and resets
    # patience (``>=``, as the official GLNN / FF-G2M loops) | "earlier" keeps the first
    tie_break: str = "later"
    # the hidden representation cached next to the logits (students' similarity targets):
    # "input" of the last layer | "pre-activation" of the last hidden layer (NOSMOG's teacher)
    hidden_at: str = field(default="input", metadata=NEW_OPTION)

    def __post_init__(self) -> None:
        check_tie_break(self.tie_break)
        check_ranges(self)
        _check_choice("model", self.model, TEACHERS)
        _check_choice("hidden_at", self.hidden_at, HIDDEN_POINTS)
        _check_choice("norm", self.norm, NORMS)
        if not self.fanouts or any(f != -1 and f < 1 for f in self.fanouts):
            raise ValueError(f"fanouts must be positive neighbour counts or -1 (all), got {self.fanouts}")
        if self.sage_aggr not in ("mean", "gcn"):
            raise ValueError(f"sage_aggr must be mean or gcn, got {self.sage_aggr!r}")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}, got {self.sampler!r}")


@dataclass(frozen=True)
class StudentConfig:
    method: str = "ffg2m"
    hidden: int = 256
    num_layers: int = 2
    dropout: float = 0.5
    input_dropout: float = 0.0
    norm: str = "none"
    lr: float = 0.01
    weight_decay: float = 5e-4
    epochs: int = 500
    patience: int = 50
    lam: float = 0.0
    tau: float = 1.0
    chunk_size: int | None = None
    batch_size: int | None = None  # None: full batch; else nodes per batch (no neighbour of the student fetched)
    # divide the logits by tau in KD and LFD as well as in HFD (g2m 0.1); the official
    # GLNN / FF-G2M code uses the raw-logit softmax there and tau in HFD only
    tempered_kd: bool = False
    tie_break: str = "later"  # as TeacherConfig.tie_break
    # ---- Composable additions to any objective (defaults: off) ----
    # NOSMOG position features: "deepwalk" appends DeepWalk embeddings of the observed graph
    # to the features (unseen nodes: mean of their observed neighbours'); g2m.students.position
    position: str = field(default="none", metadata=NEW_OPTION)
    position_dim: int = field(default=64, metadata=NEW_OPTION)
    position_walk_length: int = field(default=50, metadata=NEW_OPTION)
    position_walks: int = field(default=5, metadata=NEW_OPTION)
    position_window: int = field(default=5, metadata=NEW_OPTION)
    position_epochs: int = field(default=1, metadata=NEW_OPTION)
    # who learns the DeepWalk table: "gensim" (Word2Vec, skip-gram with hierarchical softmax and
    # negative sampling, as NOSMOG's code; the optional gensim package) | "torch" (g2m's
    # SparseAdam skip-gram of g2m <= 0.1, which barely moves from its initialisation at NOSMOG's
    # settings); g2m.students.position.deepwalk
    position_backend: str = field(default="gensim", metadata=changed_option("torch", ("position", "none")))
    # NOSMOG representation-similarity distillation weight (its feat_distill_weight; 0: off)
    similarity_weight: float = field(default=0.0, metadata=NEW_OPTION)
    # its similarity: "dot" (NOSMOG's inner products) | "cosine" (scale-free; g2m.losses.node.similarity_loss)
    similarity_kernel: str = field(default="dot", metadata=NEW_OPTION)
    # NOSMOG adversarial feature augmentation: PGD radius (its adv_eps; 0: off), steps, weight
    adversarial_eps: float = field(default=0.0, metadata=NEW_OPTION)
    adversarial_steps: int = field(default=5, metadata=NEW_OPTION)
    adversarial_weight: float = field(default=0.1, metadata=NEW_OPTION)
    # LFD / HFD edge weights: "none" (FF-G2M) | "agreement" (<p^T_i, p^T_j>, heterophily-safe)
    edge_weighting: str = field(default="none", metadata=NEW_OPTION)
    # KRD: "krd" samples LFD's edges by the teacher's reliability from epoch krd_start on
    # (needs the teacher's entropy shift); KRD's init_power, momentum and bins_num
    reliability: str = field(default="none", metadata=NEW_OPTION)
    krd_start: int = field(default=50, metadata=NEW_OPTION)
    krd_power: float = field(default=1.0, metadata=NEW_OPTION)
    krd_momentum: float = field(default=0.99, metadata=NEW_OPTION)
    krd_bins: int = field(default=50, metadata=NEW_OPTION)
    # validation guard: also train the label-only twin (same architecture, inputs and seed,
    # no teacher) and, with weighted edges, the unweighted student; keep the best on
    # validation, ties going to less structure; g2m.training.node_student.distill_node_student
    guard: bool = field(default=False, metadata=NEW_OPTION)
    # mini-batch HFD: edges sampled per epoch, uniformly, spread over the epoch's batches (None: a
    # quarter of the epoch's seed count, so the sampled ends add at most half a batch to a step's
    # forward); an unbiased estimate of the full HFD whose variance falls as the count grows
    hfd_edges_per_epoch: int | None = field(default=None, metadata=NEW_OPTION)
    # the student's hidden representation that NOSMOG's similarity projector reads: "input" of
    # the last layer | "pre-activation" of the last hidden layer (NOSMOG's h_list[-1])
    hidden_at: str = field(default="input", metadata=NEW_OPTION)
    # ---- The official GLNN / NOSMOG mini-batch loop (train_and_eval.py in meettyj/NOSMOG) ----
    # drop each epoch's last, incomplete batch (its torch.randperm(n)[: n // B * B])
    drop_last: bool = field(default=False, metadata=NEW_OPTION)
    # two passes per epoch: the labelled nodes in their own batches, every term on labels weighted
    # lam, then every node, every term on the teacher weighted 1 - lam; each batch its own Adam
    # step, even at lam = 0 (a step of weight decay alone, as the official loop takes); inert for
    # mlp, whose epochs are the label pass alone
    label_pass: bool = field(default=False, metadata=NEW_OPTION)

    def __post_init__(self) -> None:
        check_tie_break(self.tie_break)
        parse_node_method(self.method)
        check_ranges(self)
        _check_choice("norm", self.norm, NORMS)
        _check_choice("hidden_at", self.hidden_at, HIDDEN_POINTS)
        if self.hidden_at == "pre-activation" and self.num_layers < 2:
            raise ValueError("hidden_at 'pre-activation' needs a hidden layer: num_layers >= 2")
        if (self.drop_last or self.label_pass) and self.batch_size is None:
            raise ValueError("drop_last and label_pass shape mini-batch epochs: set batch_size (e.g. 512, NOSMOG's)")
        if self.position_window >= self.position_walk_length:
            raise ValueError(
                f"position_window ({self.position_window}) must be shorter than position_walk_length "
                f"({self.position_walk_length})"
            )
        if self.position_backend not in POSITION_BACKENDS:
            raise ValueError(f"position_backend must be one of {POSITION_BACKENDS}, got {self.position_backend!r}")
        if self.position not in POSITIONS:
            raise ValueError(f"position must be one of {POSITIONS}, got {self.position!r}")
        if self.similarity_kernel not in SIMILARITY_KERNELS:
            raise ValueError(f"similarity_kernel must be one of {SIMILARITY_KERNELS}, got {self.similarity_kernel!r}")
        if self.reliability not in RELIABILITIES:
            raise ValueError(f"reliability must be one of {RELIABILITIES}, got {self.reliability!r}")
        if self.edge_weighting not in EDGE_WEIGHTINGS:
            raise ValueError(f"edge_weighting must be one of {EDGE_WEIGHTINGS}, got {self.edge_weighting!r}")
        if self.edge_weighting != "none" and self.objective not in ("lfd", "hfd", "ffg2m"):
            raise ValueError(
                f"edge_weighting {self.edge_weighting!r} weights LFD / HFD edges; method "
                f"{self.method!r} has none (use it with lfd, hfd or ffg2m)"
            )
        if self.guard and self.objective == "mlp":
            raise ValueError(
                f"guard chooses on validation between a distilled student and its label-only twin; "
                f"method {self.method!r} has no teacher (use it with a distilling method)"
            )

    def label_only(self) -> StudentConfig:
        """The guard's label-only candidate: this student trained on labels alone (the same architecture,
        optimiser and input features, position features included; no teacher term)."""
        return replace(
            self,
            method="mlp",
            edge_weighting="none",
            reliability="none",
            similarity_weight=0.0,
            adversarial_eps=0.0,
            guard=False,
            label_pass=False,
        )

    @property
    def objective(self) -> str:
        """The loss behind the method name (a recipe's objective, or the method itself)."""
        return node_method_options(self.method)[0]

    def position_settings(self):
        from g2m.students.position import DeepWalkSettings

        return DeepWalkSettings(
            dim=self.position_dim,
            walk_length=self.position_walk_length,
            walks_per_node=self.position_walks,
            window=self.position_window,
            epochs=self.position_epochs,
            backend=self.position_backend,
        )

    def model_kwargs(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("hidden", "num_layers", "dropout", "norm", "input_dropout", "hidden_at")}


#: a named layer of option values: where they come from, and the values
Layer = tuple[str, dict[str, Any]]


def resolved(cls: type[T], layers: list[Layer]) -> tuple[T, dict[str, str]]:
    """``cls``'s code defaults with each layer's non-None values applied in order, and for every
    field the name of the last layer that set it (``"code default"`` for none): what every
    ``*_config`` builds and what ``g2m config show`` prints."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    out, sources = cls(), dict.fromkeys(names, "code default")
    for where, layer in layers:
        unknown = set(layer) - names
        if unknown:
            raise ValueError(f"unknown {cls.__name__} fields {sorted(unknown)}; known: {sorted(names)}")
        values = {k: v for k, v in layer.items() if v is not None}
        out = replace(out, **values)  # type: ignore[type-var]
        sources.update(dict.fromkeys(values, where))
    return out, sources


def _preset_layers(spec: DatasetSpec | None, section: str, *names: str) -> list[Layer]:
    """``[hparams.<section>]``, then ``[hparams.<section>.<names[0]>]``, ... (scalars only), each
    named by its table."""
    if spec is None:
        return []
    layers = []
    for depth in range(len(names) + 1):
        table = ".".join(f'"{n}"' if "+" in n else n for n in ("hparams", section, *names[:depth]))
        values = {k: v for k, v in spec.preset(section, *names[:depth]).items() if not isinstance(v, dict)}
        layers.append((f"{spec.name} [{table}]", values))
    return layers


def teacher_layers(spec: DatasetSpec | None, model: str, **overrides: Any) -> list[Layer]:
    """The named layers :func:`teacher_config` applies over the code defaults, in order."""
    return [("teacher", {"model": model}), *_preset_layers(spec, "teacher", model), ("command line", overrides)]


def teacher_config(spec: DatasetSpec | None, model: str, **overrides: Any) -> TeacherConfig:
    """Preset lookup: ``[hparams.teacher]`` then ``[hparams.teacher.<model>]``, then ``overrides``."""
    return resolved(TeacherConfig, teacher_layers(spec, model, **overrides))[0]


def student_layers(spec: DatasetSpec | None, method: str, teacher: str, **overrides: Any) -> list[Layer]:
    """The named layers :func:`student_config` applies over the code defaults, in order."""
    _, options = node_method_options(method)
    layers: list[Layer] = [("method " + method, {"method": method, **options})]
    if spec is not None:
        layers += _preset_layers(spec, "student", teacher)  # [hparams.student], [hparams.student.<teacher>]
        for name in dict.fromkeys([parse_node_method(method)[0], method]):  # the base's tables, then the name's
            layers += _preset_layers(spec, "student", name, teacher)[1:]
    return [*layers, ("command line", overrides)]


def student_config(spec: DatasetSpec | None, method: str, teacher: str, **overrides: Any) -> StudentConfig:
    """Preset lookup, later layers winning: the options the method's name sets (a recipe's,
    ``g2m.methods.NODE_RECIPES``, then each ``+component``'s, ``NODE_COMPONENTS``),
    ``[hparams.student]``,
    ``[hparams.student.<teacher>]`` (every method distilled from that teacher, as the
    official FF-G2M presets are given per dataset and teacher),
    ``[hparams.student.<method>]``, ``[hparams.student.<method>.<teacher>]``; for a composed
    name such as ``krd+position`` the base method's two tables come first, then the full
    name's (``[hparams.student."krd+position"]``, quoted in TOML)."""
    return resolved(StudentConfig, student_layers(spec, method, teacher, **overrides))[0]


def as_dict(config: Any) -> dict[str, Any]:
    return asdict(config)


@dataclass(frozen=True)
class LinkTeacherConfig(_GNNKwargs):
    model: str = "sage"
    hidden: int = 256
    num_layers: int = 2
    dropout: float = 0.5
    norm: str = "none"
    heads: int = 8
    scorer: str = "mlp"  # dot | mlp
    scorer_dropout: float = 0.0  # dropout inside the mlp scorer
    lr: float = 0.005
    weight_decay: float = 0.0
    epochs: int = 1000
    patience: int = 100
    grad_clip: float | None = 1.0  # global gradient-norm cap, as LLP's training loops
    # a validation tie: "later" counts it as the new best and resets patience (the official
    # LLP loops' `>=`) | "earlier" keeps the first best (g2m's link default so far)
    tie_break: str = field(default="earlier", metadata=NEW_OPTION)

    def __post_init__(self) -> None:
        check_tie_break(self.tie_break)
        check_ranges(self)
        _check_choice("model", self.model, TEACHERS)
        _check_choice("norm", self.norm, NORMS)
        _check_choice("scorer", self.scorer, LINK_SCORERS)


@dataclass(frozen=True)
class LinkStudentConfig:
    method: str = "llp"
    hidden: int = 256
    num_layers: int = 2
    dropout: float = 0.5
    norm: str = "none"
    scorer: str = "mlp"
    scorer_dropout: float = 0.0
    lr: float = 0.005
    weight_decay: float = 0.0
    epochs: int = 1000
    patience: int = 100
    grad_clip: float | None = 1.0
    # per-term weights; None means "the method's default" (see g2m.losses.link_objectives)
    w_sup: float | None = None
    w_rank: float | None = None
    w_dist: float | None = None
    w_logit: float | None = None
    w_repr: float | None = None
    margin: float = 0.1
    tau: float = 1.0
    relational_scores: str = "prob"  # prob (sigmoid, as LLP's code) | logit: the scale rank and dist compare
    walks: int = 4
    hops: int = 3
    random_ratio: float = 1.0
    anchors_per_epoch: int | None = 1024  # None or 0: every observed node is an anchor each epoch
    # Official-fidelity options (snap-research/linkless-link-prediction, src/main.py):
    # "all-pairs" averages the rank loss over every context pair as nn.MarginRankingLoss
    # does there; "informative-pairs" over the pairs outside the margin only
    rank_average: str = "informative-pairs"
    # dropout on the teacher scorer's hidden layer when its scores are distilled: the
    # official code never puts its teacher predictor in eval mode (rate: its --dropout)
    teacher_score_dropout: float = 0.0
    # random-walk kernel of the context sampler: "torch_cluster" (PyG's Node2Vec walk) |
    # "g2m" (CSR walker) | "auto" (torch_cluster when installed); g2m.data.sampling.random_walk
    walker: str = field(default="auto", metadata=NEW_OPTION)
    tie_break: str = field(default="earlier", metadata=NEW_OPTION)  # as LinkTeacherConfig.tie_break

    def __post_init__(self) -> None:
        check_tie_break(self.tie_break)
        check_ranges(self)
        _check_choice("method", self.method, LINK_METHODS)
        _check_choice("norm", self.norm, NORMS)
        _check_choice("scorer", self.scorer, LINK_SCORERS)
        _check_choice("relational_scores", self.relational_scores, RELATIONAL_SCORES)
        if self.walker not in WALKERS:
            raise ValueError(f"walker must be one of {WALKERS}, got {self.walker!r}")
        if self.rank_average not in RANK_AVERAGES:
            raise ValueError(f"rank_average must be one of {RANK_AVERAGES}, got {self.rank_average!r}")

    def model_kwargs(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("hidden", "num_layers", "dropout", "norm")}


def link_teacher_layers(spec: DatasetSpec | None, model: str, **overrides: Any) -> list[Layer]:
    """The named layers :func:`link_teacher_config` applies over the code defaults, in order."""
    return [("teacher", {"model": model}), *_preset_layers(spec, "link_teacher", model), ("command line", overrides)]


def link_teacher_config(spec: DatasetSpec | None, model: str, **overrides: Any) -> LinkTeacherConfig:
    """Preset lookup: ``[hparams.link_teacher]`` then ``[hparams.link_teacher.<model>]``."""
    return resolved(LinkTeacherConfig, link_teacher_layers(spec, model, **overrides))[0]


def link_student_layers(spec: DatasetSpec | None, method: str, **overrides: Any) -> list[Layer]:
    """The named layers :func:`link_student_config` applies over the code defaults, in order."""
    return [
        ("method " + method, {"method": method}),
        *_preset_layers(spec, "link_student", method),
        ("command line", overrides),
    ]


def link_student_config(spec: DatasetSpec | None, method: str, **overrides: Any) -> LinkStudentConfig:
    """Preset lookup: ``[hparams.link_student]`` then ``[hparams.link_student.<method>]``."""
    return resolved(LinkStudentConfig, link_student_layers(spec, method, **overrides))[0]


def new_option_defaults() -> dict[str, Any]:
    """Every option added after results were first written (``NEW_OPTION``), with its
    default: a results file written before the option existed trained at that default."""
    classes = (TeacherConfig, StudentConfig, LinkTeacherConfig, LinkStudentConfig)
    return {
        f.name: f.metadata.get("before", f.default)
        for cls in classes
        for f in fields(cls)
        if f.metadata.get("omit_default_from_tag")
    }
