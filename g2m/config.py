"""Hyper-parameter configs: code defaults <- dataset preset (``[hparams.*]``) <- explicit overrides.

Each option is declared once, as a typed field: its type (a ``Literal`` for a choice; a number's
valid range as standard ``Annotated`` metadata from annotated-types, through the aliases below:
``lr: Positive``), and, from :func:`option`, its default and help. Validation
(:func:`check_fields`, by pydantic), the CLI's flags (:mod:`g2m.cli.options`) and ``g2m config
show`` all read that declaration."""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from typing import Annotated, Any, TypeVar, cast

from annotated_types import Ge, Gt, Interval

from g2m.data.specs import DatasetSpec
from g2m.methods import (
    LINK_METHODS,
    LINK_TERM_WEIGHTS,
    LINK_TERMS,
    EdgeWeighting,
    HiddenAt,
    LinkScorerName,
    NodeTeacherName,
    Norm,
    Position,
    PositionBackend,
    PropagationInit,
    RankAverage,
    RelationalScores,
    Reliability,
    SageAggr,
    Sampler,
    SelectOn,
    SimilarityKernel,
    TeacherName,
    TieBreak,
    Walker,
    node_method_options,
    parse_node_method,
)

T = TypeVar("T")

# ---- The ranges a number option may take: annotated-types constraints, checked by pydantic ----
#: [1, inf): widths, counts, epochs
AtLeastOne = Annotated[int, Ge(1)]
#: [2, inf): a walk of at least one step
AtLeastTwo = Annotated[int, Ge(2)]
#: [0, inf) for a count
NonNegativeInt = Annotated[int, Ge(0)]
#: [0, inf): weights, weight decay
NonNegative = Annotated[float, Ge(0)]
#: (0, inf): learning rates, temperatures
Positive = Annotated[float, Gt(0)]
#: [0, 1): dropout rates
Rate = Annotated[float, Interval(ge=0, lt=1)]
#: [0, 1]: mixing weights
Unit = Annotated[float, Interval(ge=0, le=1)]
#: (0, 1]: a share that cannot be empty
Share = Annotated[float, Interval(gt=0, le=1)]


@dataclass(frozen=True)
class Inert:
    """When a field changes nothing: ``when(config)`` holds for a config that never reads it.
    ``what`` says what the field is, ``fix`` how to make it count; a flag given for students that
    would all ignore it is refused (:func:`inert_options`)."""

    when: Callable[[Any], bool]
    what: str
    fix: str


def option(
    default: Any,
    help: str,
    *,
    new: bool = False,
    before: Any = MISSING,
    inert_when: tuple[str, Any] | None = None,
    inert: Inert | None = None,
) -> Any:
    """A config field, declared once: its ``default`` and its ``help`` (the CLI's help and ``g2m
    config show --help``'s); its type says the rest (a ``Literal``'s choices, a range such as
    :data:`Positive`), checked when a config is built (:func:`check_fields`).

    ``new``: the option was added after caches and results were written; at its default it stays
    out of the config hash (:func:`g2m.cache.keys.config_tag`), so existing entries keep their
    keys. ``before``: the option was added with a default that changes what older code did, which
    behaved as ``before``; it stays out of the hash at ``before`` and while ``inert_when = (field,
    value)`` holds. ``inert``: when the field changes nothing (:class:`Inert`)."""
    meta: dict[str, Any] = {"help": help}
    if new or before is not MISSING:
        meta["omit_default_from_tag"] = True
    if before is not MISSING:
        meta.update(before=before, inert_when=inert_when)
    if inert is not None:
        meta["inert"] = inert
    return field(default=default, metadata=meta)


def help_of(cls: type, name: str) -> str:
    """``cls.name``'s help text, with its choices or its interval."""
    f = _fields_of(cls)[name]
    text = f.metadata.get("help", "")
    choices = choices_of(cls, name)
    if choices and not all(choice in text for choice in choices):
        return f"{text} One of: {' | '.join(choices)}."
    interval = interval_of(cls, name)
    if interval is not None:
        return f"{text} In {interval}."
    return text


@functools.cache
def _fields_of(cls: type) -> dict[str, Field]:
    return {f.name: f for f in fields(cls)}


@functools.cache
def _types_of(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@functools.cache
def _declared_types_of(cls: type) -> dict[str, Any]:
    """The fields' types with their ``Annotated`` metadata (``_types_of`` strips it)."""
    return typing.get_type_hints(cls, include_extras=True)


def choices_of(cls: type, name: str) -> tuple[str, ...]:
    """The values a ``Literal``-typed field of ``cls`` accepts (empty for any other type)."""
    kind = _types_of(cls)[name]
    return typing.get_args(kind) if typing.get_origin(kind) is typing.Literal else ()


def _constraints(hint: Any) -> tuple[Any, ...]:
    """The annotated-types metadata of ``hint`` (``Annotated[T, ...]``, optionally ``| None``)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    return hint.__metadata__ if typing.get_origin(hint) is Annotated else ()


@functools.cache
def interval_of(cls: type, name: str) -> str | None:
    """The range ``cls.name`` must lie in, in interval notation (``"[0, 1)"``); None: no range."""
    metadata = _constraints(_declared_types_of(cls)[name])
    if not metadata:
        return None
    low, high = "(-inf", "inf)"
    for c in metadata:
        if getattr(c, "gt", None) is not None:
            low = f"({c.gt:g}"
        if getattr(c, "ge", None) is not None:
            low = f"[{c.ge:g}"
        if getattr(c, "lt", None) is not None:
            high = f"{c.lt:g})"
        if getattr(c, "le", None) is not None:
            high = f"{c.le:g}]"
    return f"{low}, {high}"


@functools.cache
def _validator(cls: type, name: str) -> Any:
    """pydantic's strict validator of a ranged field (None for a field without a range)."""
    if interval_of(cls, name) is None:
        return None
    from pydantic import TypeAdapter  # the CLI's help never builds a config: no import there

    return TypeAdapter(_declared_types_of(cls)[name])


@functools.cache
def _integer_fields(cls: type) -> frozenset[str]:
    """The fields of ``cls`` annotated ``int`` (or ``int | None``), not ``float``."""
    kinds = {name: set(typing.get_args(hint)) or {hint} for name, hint in typing.get_type_hints(cls).items()}
    return frozenset(name for name, kind in kinds.items() if int in kind and float not in kind)


def check_fields(config: Any) -> None:
    """Raise ``ValueError`` naming the first field of ``config`` outside its declared range (or of
    the wrong type: strict, a bool or a string is no number, a float no whole number) or not one of
    its ``Literal`` choices. pydantic decides; the message says what the field accepts."""
    from pydantic import ValidationError

    cls = cast(type, type(config))
    for f in fields(config):
        value = getattr(config, f.name)
        choices = choices_of(cls, f.name)
        if choices and value not in choices:
            raise ValueError(f"{f.name} must be one of {', '.join(choices)}, got {value!r}")
        validator = _validator(cls, f.name)
        if validator is None:
            continue
        try:
            validator.validate_python(value, strict=True)
        except ValidationError:
            interval = interval_of(cls, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{cls.__name__}.{f.name} must be a number in {interval}, got {value!r}") from None
            if isinstance(value, float) and f.name in _integer_fields(cls):
                raise ValueError(f"{f.name} must be a whole number in {interval}, got {value!r}") from None
            raise ValueError(f"{f.name} must be in {interval}, got {value}") from None


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


_TIE_BREAK_HELP = (
    "A validation score that ties the best: later (new best, patience reset: the official GLNN / FF-G2M / "
    "LLP loops) | earlier (keep the first)."
)
_SAMPLER_HELP = (
    "Mini-batch neighbour sampler: pyg (PyG's NeighborLoader), g2m (CSR sampler), auto (pyg when installed)."
)

# ---- Fields every model config has, each declared once (defaults differ per config) ----


def _hidden(default: int = 256) -> Any:
    return option(default, "Hidden width.")


def _num_layers(default: int = 2) -> Any:
    return option(default, "Number of layers.")


def _dropout(default: float = 0.5) -> Any:
    return option(default, "Dropout rate of the hidden layers.")


def _norm(default: str = "none") -> Any:
    return option(default, "Normalisation of each hidden layer.")


def _lr(default: float) -> Any:
    return option(default, "Learning rate (Adam).")


def _weight_decay(default: float) -> Any:
    return option(default, "Weight decay.")


def _epochs(default: int) -> Any:
    return option(default, "Maximum epochs.")


def _patience(default: int) -> Any:
    return option(default, "Early-stopping patience (epochs).")


def _tie_break(default: str, new: bool = False) -> Any:
    return option(default, _TIE_BREAK_HELP, new=new)


def _heads(default: int = 8) -> Any:
    return option(default, "GAT attention heads.")


def _scorer(default: str = "mlp") -> Any:
    return option(default, "Link scorer of a node pair's embeddings.")


def _scorer_dropout(default: float = 0.0) -> Any:
    return option(default, "Dropout inside the mlp scorer.")


def _link_batch_size() -> Any:
    return option(
        65536,
        "Training edges per optimiser step (0: all in one step); each epoch shuffles them into batches, and a "
        "student's anchors into as many shares, as LLP's code (its default 65,536). Graphs with fewer training "
        "edges take one step per epoch.",
        new=True,
    )


def _grad_clip(default: float | None = 1.0) -> Any:
    return option(default, "Global gradient-norm cap, as LLP's training loops (None: none).")


@dataclass(frozen=True)
class TeacherConfig(_GNNKwargs):
    """A node teacher GNN and how it trains (:func:`g2m.training.node_teacher.train_node_teacher`)."""

    model: NodeTeacherName = option("gcn", "The teacher GNN (chosen by --teacher).")
    hidden: AtLeastOne = _hidden(256)
    num_layers: AtLeastOne = _num_layers(2)
    dropout: Rate = _dropout(0.5)
    norm: Norm = _norm()
    heads: AtLeastOne = _heads()
    lr: Positive = _lr(0.01)
    weight_decay: NonNegative = _weight_decay(5e-4)
    epochs: AtLeastOne = _epochs(500)
    patience: AtLeastOne = _patience(50)
    batch_size: AtLeastOne | None = option(None, "Seed nodes per neighbour-sampled mini-batch (None: full batch).")
    fanouts: tuple[int, ...] = option((15, 10), "Mini-batch neighbours sampled per hop, e.g. 15,10 (-1: all).")
    sampler: Sampler = option("auto", _SAMPLER_HELP, new=True)
    input_dropout: Rate | None = option(
        None,
        "Dropout on the input features (None: the rate of dropout, as Kipf's GCN; the official GLNN / FF-G2M "
        "teachers use 0).",
    )
    sage_aggr: SageAggr = option(
        "mean",
        "SAGE's neighbourhood: mean (PyG's SAGEConv, separate root weight) | gcn (DGL's gcn aggregator, W times "
        "the mean over N(i) and i: the GLNN and FF-G2M teachers).",
    )
    tie_break: TieBreak = _tie_break("later")
    hidden_at: HiddenAt = option(
        "input",
        "The hidden representation cached beside the logits: the input of the last layer, or the last hidden "
        "layer's pre-activation (NOSMOG's teacher).",
        new=True,
    )
    # ---- VQGraph's tokenizer (teacher vqgcn; YangLing0818/VQGraph train_teacher.py defaults) ----
    codebook_size: AtLeastOne = option(5000, "vqgcn: codes in the codebook (--codebook_size).", new=True)
    codebook_decay: Rate = option(0.8, "vqgcn: the codebook's moving-average decay.", new=True)
    commitment_weight: NonNegative = option(0.25, "vqgcn: weight of the commitment loss, MSE(code, h).", new=True)
    node_reconstruction_weight: NonNegative = option(
        0.001, "vqgcn: weight of the node (feature) reconstruction loss (--lamb_node).", new=True
    )
    edge_reconstruction_weight: NonNegative = option(
        0.03, "vqgcn: weight of the adjacency reconstruction loss (--lamb_edge).", new=True
    )

    def __post_init__(self) -> None:
        check_fields(self)
        if self.model == "vqgcn":
            if self.num_layers != 2 or self.norm != "none" or self.batch_size is not None:
                raise ValueError(
                    "the vqgcn teacher is VQGraph's two-layer GCN tokenizer, trained full batch without norm: "
                    f"set num_layers=2, norm='none' and no batch_size (got {self.num_layers}, {self.norm!r}, "
                    f"{self.batch_size})"
                )
        if not self.fanouts or any(f != -1 and f < 1 for f in self.fanouts):
            raise ValueError(f"fanouts must be positive neighbour counts or -1 (all), got {self.fanouts}")


def _ignores_tau(config: StudentConfig) -> bool:
    return config.objective not in ("hfd", "ffg2m") and not config.tempered_kd


_NO_POSITION = Inert(
    lambda c: c.position == "none",
    "sets the DeepWalk position features",
    "they are off: add +position to the method (or --set position=deepwalk)",
)
_NO_SIMILARITY = Inert(
    lambda c: c.similarity_weight == 0,
    "shapes NOSMOG's similarity term",
    "it is off: add +similarity to the method (or set similarity_weight)",
)
_NO_ADVERSARIAL = Inert(
    lambda c: c.adversarial_eps == 0,
    "shapes NOSMOG's adversarial term",
    "it is off: add +adversarial to the method (or set adversarial_eps)",
)
_NO_INJECTION = Inert(
    lambda c: not c.teacher_injection,
    "shapes TINED's student",
    "it is off: use tined or tined_plus (or --set teacher_injection=true)",
)
_NO_DIRICHLET = Inert(
    lambda c: c.dirichlet_weight == 0,
    "shapes TINED's Dirichlet energy term",
    "it is off: use tined or tined_plus (or set dirichlet_weight)",
)
_NO_KRD = Inert(
    lambda c: c.reliability != "krd",
    "sets KRD's reliable-edge sampling",
    "it is off: use the krd method (or --set reliability=krd with lfd or ffg2m)",
)
_NO_TOKENS = Inert(
    lambda c: c.token_weight == 0,
    "shapes VQGraph's code assignment term",
    "it is off: use the vqgraph method (or set token_weight) with a vqgcn teacher",
)


def link_term_weight(config: Any, term: str) -> float:
    """A link student's weight of ``term``: its ``w_<term>`` where set, else its method's default."""
    given = getattr(config, f"w_{term}")
    return LINK_TERM_WEIGHTS[config.method].get(term, 0.0) if given is None else float(given)


_NO_RANK = Inert(
    lambda c: link_term_weight(c, "rank") == 0,
    "shapes LLP's rank term",
    "it is off: use llp or llp_rank (or set w_rank)",
)
_NO_DIST = Inert(
    lambda c: link_term_weight(c, "dist") == 0,
    "shapes LLP's distribution term",
    "it is off: use llp or llp_dist (or set w_dist)",
)
_NO_RELATIONAL = Inert(
    lambda c: link_term_weight(c, "rank") == 0 and link_term_weight(c, "dist") == 0,
    "sets LLP's context sampling",
    "LLP's relational terms are off: use llp, llp_rank or llp_dist (or set w_rank / w_dist)",
)
_NO_SAMPLED_HFD = Inert(
    lambda c: c.batch_size is None or c.objective not in ("hfd", "ffg2m"),
    "is mini-batch HFD's edge sample",
    "it needs a method with HFD (hfd, ffg2m) and --batch-size",
)


@dataclass(frozen=True)
class StudentConfig:
    """A node MLP student and its objective (:func:`g2m.training.node_student.distill_node_student`)."""

    method: str = option("ffg2m", "The student method (chosen by --method): an objective or a named combination.")
    hidden: AtLeastOne = _hidden(256)
    num_layers: AtLeastOne = _num_layers(2)
    dropout: Rate = _dropout(0.5)
    input_dropout: Rate = option(0.0, "Dropout on the input features.")
    norm: Norm = _norm()
    lr: Positive = _lr(0.01)
    weight_decay: NonNegative = _weight_decay(5e-4)
    epochs: AtLeastOne = _epochs(500)
    patience: AtLeastOne = _patience(50)
    lam: Unit = option(0.0, "lambda, the weight of the label loss (the teacher's terms weigh 1 - lambda).")
    tau: Positive = option(
        1.0,
        "Temperature of HFD's softmax (KD and LFD use the raw logits, as the official GLNN / FF-G2M code, "
        "unless tempered_kd).",
        inert=Inert(
            _ignores_tau,
            "is HFD's temperature",
            "KD and LFD use the raw logits, as the official GLNN / FF-G2M code; add --set tempered_kd=true to "
            "temper them too",
        ),
    )
    chunk_size: AtLeastOne | None = option(None, "Edges per chunk in edge-wise losses (None: all).")
    batch_size: AtLeastOne | None = option(
        None, "Nodes per mini-batch (None: full batch); no neighbour of the student is fetched."
    )
    tempered_kd: bool = option(False, "Divide the logits by tau in KD and LFD as well as in HFD (g2m 0.1; KRD's code).")
    tie_break: TieBreak = _tie_break("later")
    # ---- Composable additions to any objective (defaults: off) ----
    position: Position = option(
        "none",
        "NOSMOG's position features: deepwalk appends DeepWalk embeddings of the observed graph to the "
        "features (an unseen node: the mean of its observed neighbours').",
        new=True,
    )
    position_dim: AtLeastOne = option(64, "DeepWalk embedding size.", new=True, inert=_NO_POSITION)
    position_walk_length: AtLeastTwo = option(50, "DeepWalk walk length.", new=True, inert=_NO_POSITION)
    position_walks: AtLeastOne = option(5, "DeepWalk walks per node.", new=True, inert=_NO_POSITION)
    position_window: AtLeastOne = option(5, "DeepWalk skip-gram window.", new=True, inert=_NO_POSITION)
    position_epochs: AtLeastOne = option(1, "DeepWalk training epochs.", new=True, inert=_NO_POSITION)
    position_backend: PositionBackend = option(
        "gensim",
        "Who learns the DeepWalk table: gensim (Word2Vec as NOSMOG's code) | torch (g2m <= 0.1's skip-gram, "
        "which barely trains) | random (an untrained table of the same shape, a control).",
        before="torch",
        inert_when=("position", "none"),
        inert=_NO_POSITION,
    )
    similarity_weight: NonNegative = option(
        0.0,
        "NOSMOG's representation-similarity weight (its feat_distill_weight; 0: off).",
        new=True,
    )
    similarity_kernel: SimilarityKernel = option(
        "dot",
        "The similarity NOSMOG's term matches: dot (NOSMOG's inner products) | cosine (scale-free).",
        new=True,
        inert=_NO_SIMILARITY,
    )
    adversarial_eps: NonNegative = option(
        0.0, "NOSMOG's adversarial augmentation: PGD radius (its adv_eps; 0: off).", new=True
    )
    adversarial_steps: AtLeastOne = option(5, "PGD steps.", new=True, inert=_NO_ADVERSARIAL)
    adversarial_weight: NonNegative = option(0.1, "Weight of the adversarial term.", new=True, inert=_NO_ADVERSARIAL)
    edge_weighting: EdgeWeighting = option(
        "none",
        "LFD / HFD edge weights: none (FF-G2M) | agreement (the teacher's <p_i, p_j>, heterophily-safe).",
        new=True,
    )
    reliability: Reliability = option(
        "none",
        "krd: sample LFD's edges by the teacher's reliability from epoch krd_start on (KRD; needs the "
        "teacher's entropy shift).",
        new=True,
    )
    krd_start: NonNegativeInt = option(50, "KRD: the epoch its edge sampling starts.", new=True, inert=_NO_KRD)
    krd_power: Positive = option(1.0, "KRD's init_power.", new=True, inert=_NO_KRD)
    krd_momentum: Unit = option(0.99, "KRD's momentum.", new=True, inert=_NO_KRD)
    krd_bins: AtLeastOne = option(50, "KRD's bins_num.", new=True, inert=_NO_KRD)
    guard: bool = option(
        False,
        "Also train the label-only twin (and, with weighted edges, the unweighted student) and keep the best "
        "on validation, ties going to less structure.",
        new=True,
    )
    hfd_edges_per_epoch: AtLeastOne | None = option(
        None,
        "Mini-batch HFD: edges sampled per epoch, spread over its batches (None: a quarter of the epoch's "
        "seeds); an unbiased estimate of the full HFD.",
        new=True,
        inert=_NO_SAMPLED_HFD,
    )
    hidden_at: HiddenAt = option(
        "input",
        "The hidden representation NOSMOG's similarity projector reads: the input of the last layer, or the "
        "last hidden layer's pre-activation (NOSMOG's h_list[-1]).",
        new=True,
    )
    token_weight: NonNegative = option(
        0.0,
        "VQGraph's soft code assignment distillation weight (its lamb_soft_tokens; 0: off); needs a vqgcn teacher.",
        new=True,
    )
    token_tau: Positive = option(
        4.0,
        "Temperature of VQGraph's code assignments (its --temperature).",
        new=True,
        inert=_NO_TOKENS,
    )
    token_pass: bool = option(
        False,
        "VQGraph's loop: each epoch first a pass over every node in batches whose only loss is the code "
        "assignment term (weighted token_weight), then the label and teacher passes.",
        new=True,
        inert=_NO_TOKENS,
    )
    # ---- The official GLNN / NOSMOG mini-batch loop (train_and_eval.py in meettyj/NOSMOG) ----
    drop_last: bool = option(
        False, "Drop each epoch's incomplete last batch (the official GLNN / NOSMOG loops).", new=True
    )
    label_pass: bool = option(
        False,
        "Two passes per epoch, each batch an Adam step: the labelled nodes (every term on labels, weighted "
        "lam), then every node (every term on the teacher, weighted 1 - lam), as the official GLNN / NOSMOG "
        "loops; inert for mlp.",
        new=True,
    )

    # ---- TINED (Zhou et al., ICML 2025; scottjiao/TINED_ICML25) ----
    teacher_injection: bool = option(
        False,
        "TINED's student: a linear layer per teacher step (feature transform, then propagation, in the "
        "teacher's order), the transforms initialised from the teacher's weights; needs a sage teacher with "
        "sage_aggr gcn. hidden and num_layers are the teacher's.",
        new=True,
    )
    propagation_init: PropagationInit = option(
        "random",
        "TINED's propagation layers start as the identity or at random (GA_init_type).",
        new=True,
        inert=_NO_INJECTION,
    )
    injected_lr_ratio: NonNegative = option(
        1.0,
        "The injected feature transforms train at lr times this (learned_MLP_lr_ratio).",
        new=True,
        inert=_NO_INJECTION,
    )
    dirichlet_weight: NonNegative = option(
        0.0,
        "Weight of TINED's Dirichlet energy distillation (DE_regularization_rate) over the observed graph: in "
        "mini-batches an Adam step of its own after each epoch's batches (the official loop), in full batch "
        "a term of the step's loss; needs teacher_injection.",
        new=True,
    )
    dirichlet_edges: Share = option(
        1.0,
        "Share of the edges each Dirichlet step draws (DE_sampling_ratio); nodes left without one drop out.",
        new=True,
        inert=_NO_DIRICHLET,
    )
    dirichlet_log: bool = option(
        False, "Compare the DE ratios' logs rather than the ratios (DE_log).", new=True, inert=_NO_DIRICHLET
    )
    shuffle: bool = option(
        True, "Shuffle the nodes into each epoch's batches (the official TINED loop keeps index order).", new=True
    )
    select_on: SelectOn = option(
        "score",
        "Keep the epoch with the best validation score, or the lowest validation loss (TINED's loop).",
        new=True,
    )
    min_epochs: NonNegativeInt = option(
        0,
        "Early stopping waits for this many epochs (TINED's loop: half of epochs); patience counts as the "
        "official loops do, stopping when the epochs since the best reach it.",
        new=True,
    )

    def __post_init__(self) -> None:
        parse_node_method(self.method)
        check_fields(self)
        if self.hidden_at == "pre-activation" and self.num_layers < 2:
            raise ValueError("hidden_at 'pre-activation' needs a hidden layer: num_layers >= 2")
        if (self.drop_last or self.label_pass or self.token_pass) and self.batch_size is None:
            raise ValueError(
                "drop_last, label_pass and token_pass shape mini-batch epochs: set batch_size (e.g. 512, NOSMOG's)"
            )
        if self.position_window >= self.position_walk_length:
            raise ValueError(
                f"position_window ({self.position_window}) must be shorter than position_walk_length "
                f"({self.position_walk_length})"
            )
        if self.edge_weighting != "none" and self.objective not in ("lfd", "hfd", "ffg2m"):
            raise ValueError(
                f"edge_weighting {self.edge_weighting!r} weights LFD / HFD edges; method "
                f"{self.method!r} has none (use it with lfd, hfd or ffg2m)"
            )
        if self.token_weight > 0 and self.objective == "mlp":
            raise ValueError(
                f"token_weight distils a vqgcn teacher's codes; method {self.method!r} has no teacher "
                "(use vqgraph, or another distilling method)"
            )
        if self.dirichlet_weight > 0 and not self.teacher_injection:
            raise ValueError(
                "dirichlet_weight (TINED's Dirichlet energy term) matches the layers of TINED's student to the "
                "teacher's steps: set teacher_injection too (or use the tined method)"
            )
        if self.teacher_injection and self.objective == "mlp":
            raise ValueError(
                f"teacher_injection initialises the student from its teacher; method {self.method!r} has none "
                "(use tined, or a distilling method)"
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
            token_weight=0.0,
            token_pass=False,
            guard=False,
            label_pass=False,
            teacher_injection=False,
            dirichlet_weight=0.0,
        )

    @property
    def objective(self) -> str:
        """The loss behind the method name (a recipe's objective, or the method itself)."""
        return node_method_options(self.method)[0]

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
        unknown = sorted(set(layer) - names)
        if unknown:
            raise ValueError(_unknown_fields(cls, where, unknown, names))
        values = {k: v for k, v in layer.items() if v is not None}
        out = replace(out, **values)  # type: ignore[type-var]
        sources.update(dict.fromkeys(values, where))
    return out, sources


def _unknown_fields(cls: type, where: str, unknown: list[str], names: set[str]) -> str:
    """The error for options that are no field of ``cls``: each with the nearest field's name."""
    import difflib

    def guess(name: str) -> str:
        close = difflib.get_close_matches(name, sorted(names), n=1, cutoff=0.6)
        return f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name)

    return (
        f"unknown {cls.__name__} fields {unknown} ({where}): {', '.join(map(guess, unknown))} "
        f"{'is no option' if len(unknown) == 1 else 'are no options'} of {cls.__name__}; `g2m config show` lists them"
    )


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


@dataclass(frozen=True)
class LinkTeacherConfig(_GNNKwargs):
    """A link teacher: a GNN encoder and a scorer of node pairs (:func:`g2m.teachers.link.train_link_teacher`)."""

    model: TeacherName = option("sage", "The teacher GNN (chosen by --teacher).")
    hidden: AtLeastOne = _hidden(256)
    num_layers: AtLeastOne = _num_layers(2)
    dropout: Rate = _dropout(0.5)
    norm: Norm = _norm()
    heads: AtLeastOne = _heads()
    scorer: LinkScorerName = _scorer()
    scorer_dropout: Rate = _scorer_dropout()
    lr: Positive = _lr(0.005)
    weight_decay: NonNegative = _weight_decay(0.0)
    epochs: AtLeastOne = _epochs(1000)
    patience: AtLeastOne = _patience(100)
    grad_clip: Positive | None = _grad_clip()
    tie_break: TieBreak = _tie_break("earlier", new=True)
    batch_size: NonNegativeInt | None = _link_batch_size()

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class LinkStudentConfig:
    """A link MLP student and its LLP-family objective (:func:`g2m.training.link.distill_link_student`)."""

    method: str = option("llp", "The student method (chosen by --method).")
    hidden: AtLeastOne = _hidden(256)
    num_layers: AtLeastOne = _num_layers(2)
    dropout: Rate = _dropout(0.5)
    norm: Norm = _norm()
    scorer: LinkScorerName = _scorer()
    scorer_dropout: Rate = _scorer_dropout()
    lr: Positive = _lr(0.005)
    weight_decay: NonNegative = _weight_decay(0.0)
    epochs: AtLeastOne = _epochs(1000)
    patience: AtLeastOne = _patience(100)
    grad_clip: Positive | None = _grad_clip()
    w_sup: NonNegative | None = option(None, "Weight of the supervised link loss (None: the method's).")
    w_rank: NonNegative | None = option(None, "Weight of LLP's rank loss (None: the method's).")
    w_dist: NonNegative | None = option(None, "Weight of LLP's distribution loss (None: the method's).")
    w_logit: NonNegative | None = option(None, "Weight of the logit-matching loss (None: the method's).")
    w_repr: NonNegative | None = option(None, "Weight of the representation-matching loss (None: the method's).")
    margin: NonNegative = option(0.1, "LLP's rank margin.", inert=_NO_RANK)
    tau: Positive = option(1.0, "Temperature of LLP's distribution loss.", inert=_NO_DIST)
    relational_scores: RelationalScores = option(
        "prob",
        "The scale LLP's rank and distribution terms compare: prob (sigmoid, as LLP's code) | logit.",
        inert=_NO_RELATIONAL,
    )
    walks: AtLeastOne = option(4, "LLP: random walks per anchor.", inert=_NO_RELATIONAL)
    hops: AtLeastOne = option(
        3, "LLP: steps per walk (nearby contexts are within this many hops).", inert=_NO_RELATIONAL
    )
    random_ratio: NonNegative = option(1.0, "LLP: random contexts per nearby context.", inert=_NO_RELATIONAL)
    anchors_per_epoch: NonNegativeInt | None = option(1024, "Anchors per epoch (None or 0: every observed node).")
    rank_average: RankAverage = option(
        "informative-pairs",
        "LLP's rank loss averaged over informative-pairs (outside the margin) | all-pairs (as "
        "nn.MarginRankingLoss in the official LLP code).",
        inert=_NO_RANK,
    )
    teacher_score_dropout: Rate = option(
        0.0,
        "Dropout on the teacher scorer when its scores are distilled (the official code never puts its "
        "predictor in eval mode; its rate: --dropout).",
    )
    batch_size: NonNegativeInt | None = _link_batch_size()
    walker: Walker = option(
        "auto",
        "Random-walk kernel of the context sampler: torch_cluster (PyG's Node2Vec walk) | g2m (CSR walker) | "
        "auto (g2m's, whatever is installed: a seed's walks do not depend on the environment).",
        new=True,
    )
    tie_break: TieBreak = _tie_break("earlier", new=True)

    def __post_init__(self) -> None:
        check_fields(self)
        if self.method not in LINK_METHODS:
            raise ValueError(f"method must be one of {', '.join(LINK_METHODS)}, got {self.method!r}")
        if self.method == "mlp":
            for term in LINK_TERMS[1:]:
                if link_term_weight(self, term):
                    raise ValueError(
                        f"w_{term}={getattr(self, f'w_{term}')} weights a teacher term, and method 'mlp' has none: "
                        f"use a method that distils the teacher (logit, repr, llp_rank, llp_dist, llp)"
                    )

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
    """Every option added after results were first written (``option(..., new=True)``), with its
    default: a results file written before the option existed trained at that default."""
    return {
        f.name: f.metadata.get("before", f.default)
        for cls in CONFIGS
        for f in fields(cls)
        if f.metadata.get("omit_default_from_tag")
    }


#: every config class: the fields the CLI generates its flags from (:mod:`g2m.cli.options`)
CONFIGS: tuple[type, ...] = (TeacherConfig, StudentConfig, LinkTeacherConfig, LinkStudentConfig)


def inert_options(config: Any, given: dict[str, Any]) -> dict[str, Inert]:
    """The fields in ``given`` that ``config`` never reads (their :class:`Inert` holds)."""
    found = {}
    cls: type = type(config)
    for name in given:
        f = _fields_of(cls).get(name)
        inert = None if f is None else f.metadata.get("inert")
        if inert is not None and inert.when(config):
            found[name] = inert
    return found


def unread_fields(cls: type, values: dict[str, Any]) -> set[str]:
    """The fields of a ``cls`` config (``values``, as ``asdict`` writes it) that change nothing there:
    those added with a ``before`` behaviour whose ``inert_when = (field, value)`` holds (e.g.
    ``position_backend`` while ``position`` is ``"none"``). The config hash leaves them out
    (:func:`g2m.cache.keys.config_tag`), and comparing two configs skips them."""
    return {
        f.name
        for f in fields(cls)
        if (when := f.metadata.get("inert_when")) is not None and values.get(when[0]) == when[1]
    }
