"""The front door: distil a PyG model (or its logits) on a PyG ``Data`` into an MLP.

No dataset registry, teacher zoo or cache is involved::

    result = g2m.distill(data, gcn, method="ffg2m")     # data: torch_geometric.data.Data
    result.student(data.x)                              # [N, C] logits, no graph needed
    g2m.export(result.student, "student.pt2")           # plain torch.export program

What the teacher must give
--------------------------
``teacher`` is an ``nn.Module`` called as ``teacher(x, edge_index)`` (any PyG model with that
signature: ``torch_geometric.nn.GCN``, ``GraphSAGE``, ``GAT``, ...) or its ``[N, C]`` logits.

* Transductive split (every node observed): the logits of the teacher run on the whole graph.
* Inductive split (a :class:`~g2m.data.splits.NodeSplit` with held-out ``test_ind`` nodes):
  observed nodes' logits from the teacher run on the *observed* subgraph (held-out nodes and
  their edges removed), held-out nodes' logits from the teacher run on the full graph, as the
  GLNN protocol evaluates the teacher. Given a module, g2m runs it both ways itself.
* Methods with representation similarity (``nosmog``, ``similarity_weight > 0``) also need the
  teacher's hidden layer: ``teacher_hidden=[N, H]``, or a PyG ``BasicGNN`` module, whose last
  convolution's input is taken by a forward hook.
* KRD (``krd``) needs the teacher's entropy shift under feature noise, computed from the module
  (a logits tensor cannot give it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import torch
from torch import Tensor, nn

from g2m.config import StudentConfig, student_config
from g2m.data.graph import Graph, graph_from_data, make_graph, undirected_edges
from g2m.data.splits import NodeSplit, make_node_split, node_sets
from g2m.device import resolve_device
from g2m.errors import G2MError, InvalidGraphError
from g2m.evaluation.metrics import node_scores
from g2m.students.mlp import MLP
from g2m.students.position import PositionedStudent
from g2m.teachers.knowledge import TeacherKnowledge
from g2m.teachers.link import LinkScorer

#: the teacher name recorded for a user's own model or logits
OWN_TEACHER = "own"


@dataclass
class DistillResult:
    """What :func:`distill` returns.

    Attributes:
        student: the trained MLP, in eval mode, on the training device. It takes raw node
            features ``[B, F]`` and returns ``[B, C]`` logits; a student with position features
            (:class:`~g2m.students.position.PositionedStudent`) also takes the nodes' indices.
        scores: the student's validation and test scores (``test_ind`` too on an inductive split).
        teacher_scores: the teacher's scores on the same split, from the logits it gave.
        config: the resolved :class:`~g2m.config.StudentConfig` (method, presets, options).
        history: one dict per epoch: ``loss``, ``val`` and each loss term.
        guard: with a guarded method, which candidate was kept; ``guard_val`` every
            candidate's validation score.
        logits: ``[N, C]`` student logits of every node, on the CPU.
        split: the :class:`~g2m.data.splits.NodeSplit` trained and scored on.
    """

    student: nn.Module
    scores: dict[str, float]
    teacher_scores: dict[str, float]
    config: StudentConfig
    history: list[dict[str, float]]
    logits: Tensor
    split: NodeSplit
    guard: str | None = None
    guard_val: dict[str, float] | None = field(default=None)

    def save(self, path: str | os.PathLike, dataset: str = "own", metric: str = "accuracy") -> Path:
        """Save the student as ``g2m distill`` does (``student.pt``, ``student.json``, and
        ``position.pt`` with position features); ``g2m eval --student PATH --graph FILE`` and
        ``g2m export --student PATH`` read it."""
        from g2m.experiments.node import student_meta
        from g2m.students.io import save_student
        from g2m.training.node_student import guard_record

        model = cast(MLP, self.student.mlp if isinstance(self.student, PositionedStudent) else self.student)
        position = self.student.position if isinstance(self.student, PositionedStudent) else None
        meta = {
            **student_meta(dataset, OWN_TEACHER, self.split, 0.2, metric, self.scores),
            **guard_record(self.guard, self.guard_val),
        }
        return save_student(path, model, self.config, meta, position)


@contextmanager
def _evaluating(module: nn.Module) -> Iterator[torch.device]:
    """``module`` in eval mode for the block (its mode restored after), yielding the device its
    parameters live on (the CPU for a module without any)."""
    params = next(iter(module.parameters()), None)
    was_training = module.training
    module.eval()
    try:
        yield params.device if params is not None else torch.device("cpu")
    finally:
        module.train(was_training)


def _split_of(graph: Graph, split: NodeSplit | Sequence[Tensor] | None, seed: int) -> NodeSplit:
    if isinstance(split, NodeSplit):
        if split.num_nodes != graph.num_nodes:
            raise G2MError(f"the split covers {split.num_nodes} nodes, the graph has {graph.num_nodes}")
        node_sets(graph.num_nodes, {"train": split.train, "val": split.val, "test": split.test}, "split")
        return split
    if split is not None:
        if isinstance(split, Tensor) or len(split) != 3:
            raise G2MError("split must be a NodeSplit or (train, val, test): three boolean masks or index tensors")
        parts = node_sets(graph.num_nodes, dict(zip(("train", "val", "test"), split)), "split=(train, val, test)")
        graph.masks = {}
        for key, idx in zip(("train", "val", "test"), parts):
            mask = torch.zeros(graph.num_nodes, dtype=torch.bool, device="cpu")
            mask[idx] = True
            graph.masks[key] = mask
    if not graph.masks:
        raise G2MError(
            f"{graph.name}: no split: give data train_mask / val_mask / test_mask, or "
            f"split=(train, val, test) as masks or node indices"
        )
    return make_node_split(graph, "public", "transductive", seed)


def _hidden_hook(teacher: nn.Module, store: list[Tensor]):
    """A forward hook on a PyG ``BasicGNN``'s last convolution that keeps its input (the
    teacher's last hidden layer); None when the module has no ``convs``."""
    convs = getattr(teacher, "convs", None)
    if not isinstance(convs, nn.ModuleList) or len(convs) == 0:
        return None
    return convs[-1].register_forward_hook(lambda _m, args, _out: store.append(args[0].detach()))


def _output(out: Any) -> Tensor:
    """A teacher module's output, refused unless it is one tensor (a tuple: say what was expected)."""
    if isinstance(out, Tensor):
        return out
    kind = type(out).__name__
    raise G2MError(
        f"the teacher module returned a {kind}; g2m needs teacher(x, edge_index) to return one [N, C] tensor of "
        f"logits: wrap the module so that it returns the logits alone"
    )


def check_teacher_logits(logits: Tensor, num_nodes: int, num_classes: int, name: str = "teacher logits") -> None:
    """Refuse logits that are not ``[num_nodes, num_classes]`` (a transposed tensor named as such)
    or that hold NaN or infinity; warn when every row sums to one (probabilities, not logits:
    g2m applies its own softmax)."""
    import warnings

    if logits.dim() != 2 or logits.size(0) != num_nodes:
        hint = f": it looks transposed, pass {name}.t()" if logits.dim() == 2 and logits.size(1) == num_nodes else ""
        raise G2MError(
            f"{name} have shape {tuple(logits.shape)}; expected [{num_nodes}, C], one row per node and one column "
            f"per class (the labels have {num_classes} classes){hint}"
        )
    if logits.size(1) != num_classes:
        raise G2MError(
            f"{name} have {logits.size(1)} columns but the labels have {num_classes} classes: one column per class"
        )
    finite = torch.isfinite(logits)
    if not bool(finite.all()):
        row = int((~finite).any(1).nonzero()[0])
        raise G2MError(f"{name} hold NaN or infinity (first in the row of node {row}): give finite logits")
    if (
        logits.size(1) > 1
        and bool((logits >= 0).all())
        and torch.allclose(
            logits.double().sum(1), torch.ones(num_nodes, dtype=torch.double, device=logits.device), atol=1e-4
        )
    ):
        warnings.warn(
            f"{name} look like probabilities (every row is non-negative and sums to 1); g2m applies its own "
            f"softmax to logits: pass the scores before the softmax (or the log of these probabilities)",
            UserWarning,
            stacklevel=3,
        )


def teacher_knowledge(
    teacher: nn.Module,
    graph: Graph,
    edge_index: Tensor,
    split: NodeSplit,
    need_hidden: bool,
    need_shift: bool,
    seed: int,
) -> TeacherKnowledge:
    """Run a user's teacher module the way the split asks (transductive: once on the graph;
    inductive: the observed subgraph for observed nodes, the full graph for held-out ones)
    and collect its logits, hidden layer (forward hook) and KRD entropy shift, on the CPU."""
    from g2m.students.reliability import entropy_shift

    hidden: list[Tensor] = []
    hook = _hidden_hook(teacher, hidden) if need_hidden else None
    if need_hidden and hook is None:
        raise G2MError(
            "this method needs the teacher's hidden layer: pass teacher_hidden=[N, H] (the module has "
            "no PyG `convs` to hook)"
        )
    try:
        with _evaluating(teacher) as where, torch.no_grad():
            x = graph.x.to(where)
            logits = _output(teacher(x, edge_index.to(where)))
            full_hidden = hidden.pop() if hook is not None else None
            observed_edges = split.observed_edges(edge_index)
            if split.test_ind.numel():  # observed nodes as the teacher sees them in training
                obs_logits = _output(teacher(x, observed_edges.to(where)))
                logits[split.observed.to(where)] = obs_logits[split.observed.to(where)]
                if full_hidden is not None:
                    full_hidden[split.observed.to(where)] = hidden.pop()[split.observed.to(where)]
            shift = None
            if need_shift:
                shift = torch.full((graph.num_nodes,), float("nan"), device="cpu")
                obs = split.observed.to(where)
                run = lambda z: teacher(z, observed_edges.to(where))[obs]  # noqa: E731
                shift[split.observed] = entropy_shift(run, x, logits[obs], seed=seed).cpu()
    finally:
        if hook is not None:
            hook.remove()
    return TeacherKnowledge(logits.float().cpu(), None if full_hidden is None else full_hidden.float().cpu(), shift)


def _keyword_language(text: str) -> str:
    """A fix written for the command line in a Python caller's words: ``--set a=b`` -> ``a=b``,
    ``--batch-size`` -> ``batch_size=``."""
    import re

    text = text.replace("--set ", "")
    return re.sub(r"--([a-z][a-z-]*)", lambda m: m.group(1).replace("-", "_") + "=", text)


def refuse_inert_options(config: Any, options: dict[str, Any], method: str) -> None:
    """Refuse a keyword option the resolved ``config`` never reads (as the CLI refuses the flag)."""
    from g2m.config import inert_options

    for name, inert in inert_options(config, options).items():
        raise G2MError(
            f"{name}={options[name]!r} {inert.what} and changes nothing for method {method!r}: "
            f"{_keyword_language(inert.fix)}"
        )


def distill(
    data: Any,
    teacher: nn.Module | Tensor,
    method: str = "ffg2m",
    *,
    seed: int = 0,
    device: str | torch.device | None = None,
    split: NodeSplit | Sequence[Tensor] | None = None,
    teacher_hidden: Tensor | None = None,
    symmetrize: bool = False,
    metric: str = "accuracy",
    progress: bool = False,
    **options: Any,
) -> DistillResult:
    """Distil ``teacher`` on the graph ``data`` into an MLP student.

    Args:
        data: a :class:`torch_geometric.data.Data` with ``x`` ``[N, F]``, ``y`` ``[N]`` and an
            undirected ``edge_index`` ``[2, E]``, and ``train_mask`` / ``val_mask`` /
            ``test_mask`` (``[N]``, or ``[N, S]``: split ``seed % S``) unless ``split`` is given.
        teacher: a trained ``nn.Module`` called as ``teacher(x, edge_index)``, or its ``[N, C]``
            logits (see the module docstring for which logits an inductive split needs).
        method: a node method (``mlp``, ``glnn``, ``lfd``, ``hfd``, ``ffg2m``, ``nosmog``,
            ``ffg2m_safe``, ``krd``, optionally ``+component``: ``g2m.methods``).
        seed: seeds the student's initialisation, dropout and sampling.
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (default: CUDA when available).
        split: a :class:`~g2m.data.splits.NodeSplit` (inductive splits included) or
            ``(train_idx, val_idx, test_idx)``; default: ``data``'s masks.
        teacher_hidden: ``[N, H]`` hidden representations, for methods that match them.
        symmetrize: add the reverse of every directed edge (a directed graph is refused).
        metric: ``accuracy`` or ``rocauc`` (binary tasks).
        progress: show a progress bar / progress lines.
        **options: any :class:`~g2m.config.StudentConfig` field (``lam``, ``tau``, ``hidden``,
            ``epochs``, ``batch_size``, ...); an unknown name is an error that lists them.

    Returns:
        A :class:`DistillResult`.
    """
    from g2m.training.node_student import distill_node_student

    dev = resolve_device(device)
    # logits wider than the labels' classes name the class count (classes no node carries); any
    # other shape is left to check_teacher_logits, which names the teacher in its error
    rows, y = getattr(data, "num_nodes", None), getattr(data, "y", None)
    labelled = int(y.max()) + 1 if isinstance(y, Tensor) and y.numel() else 0
    width = None
    if isinstance(teacher, Tensor) and teacher.dim() == 2 and teacher.size(0) == rows and teacher.size(1) >= labelled:
        width = teacher.size(1)
    graph = graph_from_data(data, symmetrize=symmetrize, num_classes=width)
    node_split = _split_of(graph, split, seed)
    try:
        config = student_config(None, method, OWN_TEACHER, **options)
    except (ValueError, TypeError) as err:
        raise G2MError(str(err)) from None
    refuse_inert_options(config, options, method)
    if isinstance(teacher, nn.Module):
        # the teacher sees the graph it was trained on: data.edge_index as given (symmetrised if asked)
        edges = graph.edge_index if symmetrize else data.edge_index.cpu()
        need_hidden = config.similarity_weight > 0 and teacher_hidden is None
        known = teacher_knowledge(teacher, graph, edges, node_split, need_hidden, config.reliability == "krd", seed)
        logits, hidden, shift = (
            known.logits,
            teacher_hidden if teacher_hidden is not None else known.hidden,
            known.entropy_shift,
        )
    elif isinstance(teacher, Tensor):
        if config.reliability == "krd":
            raise G2MError(
                "krd needs the teacher's entropy shift under feature noise: pass the teacher module, not its logits"
            )
        logits, hidden, shift = teacher.detach().float().cpu(), teacher_hidden, None
    else:
        raise G2MError(f"teacher must be an nn.Module or a [N, C] logits tensor, got {type(teacher).__name__}")
    check_teacher_logits(logits, graph.num_nodes, graph.num_classes)
    out = distill_node_student(
        graph,
        node_split,
        TeacherKnowledge(logits, None if hidden is None else hidden.cpu(), shift),
        config,
        seed,
        metric,
        progress,
        device=dev,
    )
    student: nn.Module = out.model
    if out.position is not None:
        student = PositionedStudent(out.model, out.position.to(dev))
    return DistillResult(
        student.eval(),
        out.scores,
        node_scores(logits, graph, node_split, metric),
        config,
        out.fit.history,
        out.logits,
        node_split,
        out.guard,
        out.guard_val,
    )


def export(student: nn.Module, path: str | os.PathLike, precision: str = "fp32") -> Path:
    """Export a student (``DistillResult.student``) for serving with plain PyTorch: ``fp32`` or
    ``bf16`` as a ``torch.export`` program (``torch.export.load(path).module()``), ``int8`` as
    TorchScript (``torch.jit.load(path)``). A student with position features exports its MLP,
    whose input is the node features followed by the node's position row."""
    from g2m.students.export import export_student

    mlp = cast(MLP, student.mlp if isinstance(student, PositionedStudent) else student)
    return export_student(mlp, mlp.in_channels, path, precision)


class _OwnScorer(nn.Module):
    """A user's pair scorer, called as ``scorer(h_u, h_v) -> [B]`` logits, with the interface g2m's
    link trainer reads (:class:`~g2m.teachers.link.LinkScorer`)."""

    def __init__(self, scorer: nn.Module) -> None:
        super().__init__()
        self.inner = scorer

    def forward(self, h_u: Tensor, h_v: Tensor, dropout: float | None = None) -> Tensor:
        out = self.inner(h_u, h_v)
        if not isinstance(out, Tensor) or out.numel() != h_u.size(0) or (out.dim() == 2 and out.size(1) != 1):
            got = f"shape {tuple(out.shape)}" if isinstance(out, Tensor) else f"a {type(out).__name__}"
            raise G2MError(
                f"scorer(h_u, h_v) returned {got} for {h_u.size(0)} pairs; it must return one link logit per pair, "
                "a [B] (or [B, 1]) tensor"
            )
        return out.view(-1)

    def score_pairs(self, h: Tensor, pairs: Tensor, dropout: float | None = None) -> Tensor:
        return self(h[pairs[0]], h[pairs[1]])


@dataclass
class LinkDistillResult:
    """What :func:`distill_link` returns: the MLP ``encoder`` (raw node features to embeddings)
    and its ``scorer`` (pairs of embeddings to link logits), on the training device; ``scores``
    (validation Hits@20 and the test metrics), the teacher's ``teacher_scores`` on the same
    split, the resolved ``config``, the epochs' ``history`` and the ``split``."""

    encoder: nn.Module
    scorer: LinkScorer
    scores: dict[str, float]
    teacher_scores: dict[str, float]
    config: Any
    history: list[dict[str, float]]
    split: Any

    def save(self, path: str | os.PathLike, dataset: str = "own") -> Path:
        """Save the student as ``g2m distill --task link`` does (``student.pt``: encoder and scorer,
        ``student.json``); ``g2m eval --student PATH --graph FILE`` and ``g2m export --student PATH``
        read it (the export: one program from the two ends' features to the link logit)."""
        from g2m.experiments.link import link_student_meta
        from g2m.students.io import save_link_student

        meta = link_student_meta(dataset, OWN_TEACHER, self.split, self.split.seed, self.scores)
        return save_link_student(path, self.encoder, self.scorer, self.config, meta)


def distill_link(
    data: Any,
    encoder: nn.Module | str,
    scorer: nn.Module | None,
    method: str = "llp",
    *,
    seed: int = 0,
    device: str | torch.device | None = None,
    split: Any = None,
    setting: str | None = None,
    symmetrize: bool = False,
    progress: bool = False,
    student_scorer: str | None = None,
    **options: Any,
) -> LinkDistillResult:
    """Distil a link-prediction teacher (a GNN ``encoder(x, edge_index) -> [N, D]`` and a
    ``scorer(h_u, h_v) -> [B]`` of link logits) on the graph ``data`` into an MLP encoder and scorer.

    Args:
        data: a :class:`torch_geometric.data.Data` with ``x`` and an undirected ``edge_index``
            (``y`` is not needed).
        encoder: the trained teacher's encoder. Its embeddings are computed on the split's
            training edges (its message graph), so the teacher should have been trained on them.
            Or a heuristic teacher that needs no training (EHDM's ``cn``, ``aa``, ``ra``:
            :class:`~g2m.teachers.heuristic.HeuristicScorer` over the training edges), with
            ``scorer=None``.
        scorer: the trained teacher's scorer of a pair of embeddings (``None`` for a heuristic).
        method: ``mlp``, ``logit``, ``repr``, ``llp_rank``, ``llp_dist`` or ``llp``.
        seed: the split's and the student's seed.
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (default).
        split: a :class:`~g2m.data.link_splits.LinkSplit`; default: g2m's random 85/5/10 edge
            split of ``setting`` drawn with ``seed``.
        setting: ``transductive`` (default) or ``production``; with ``split``, the split's own
            setting (another one is refused).
        symmetrize: add the reverse of every directed edge (a directed graph is refused).
        student_scorer: the student's own scorer, ``mlp`` or ``dot`` (``LinkStudentConfig.scorer``;
            named apart from the teacher's ``scorer`` module).
        **options: any other :class:`~g2m.config.LinkStudentConfig` field (``w_rank``, ``walks``, ...).
    """
    from g2m.config import link_student_config
    from g2m.data.link_splits import check_link_split, make_link_split
    from g2m.training.link import distill_link_student, evaluate_link

    dev = resolve_device(device)
    graph = _link_graph(data, symmetrize)
    if setting is not None and setting not in ("transductive", "production"):
        hint = " (link prediction's inductive setting is called production)" if setting == "inductive" else ""
        raise G2MError(f"setting={setting!r}: choose 'transductive' or 'production'{hint}")
    if split is not None:
        check_link_split(split, graph.num_nodes)
    if split is not None and setting is not None and split.setting != setting:
        raise G2MError(
            f"setting={setting!r} but the split given is a {split.setting!r} split: the split decides the setting; "
            f"leave setting out, or draw the split with make_link_split(graph, {setting!r}, seed)"
        )
    link_split = split if split is not None else make_link_split(graph, setting or "transductive", seed)
    try:
        config = link_student_config(
            None, method, **options, **({} if student_scorer is None else {"scorer": student_scorer})
        )
    except (ValueError, TypeError) as err:
        raise G2MError(_keyword_language(str(err))) from None
    refuse_inert_options(config, options, method)
    if isinstance(encoder, str):
        return _distill_from_heuristic(graph, link_split, encoder, scorer, config, seed, progress, dev)
    if scorer is None:
        raise G2MError("scorer=None goes with a heuristic teacher (encoder='cn', 'aa' or 'ra'); give your scorer")
    if config.teacher_score_dropout:
        raise G2MError("teacher_score_dropout needs g2m's own LinkScorer; your scorer is used as it is")
    own = cast(LinkScorer, _OwnScorer(scorer))  # LinkScorer's interface: forward and score_pairs
    with _evaluating(encoder) as where, torch.no_grad():
        emb = _embeddings(encoder(graph.x.to(where), link_split.message_edge_index.to(where)), graph.num_nodes)
        try:  # the first call of the user's scorer: one that cannot take these embeddings stops here
            probe = own.to(where).eval().score_pairs(emb, link_split.val_pos.to(where))
        except torch.OutOfMemoryError:
            raise
        except RuntimeError as err:  # e.g. a scorer built for other embeddings than the encoder's
            raise G2MError(
                f"scorer(h_u, h_v) failed on two [{link_split.val_pos.size(1)}, {emb.size(1)}] tensors of the "
                f"encoder's embeddings ({str(err).splitlines()[0]}): give the scorer trained on this encoder's "
                f"{emb.size(1)}-wide output"
            ) from None
        if not bool(torch.isfinite(probe).all()):
            raise G2MError("scorer(h_u, h_v) returned NaN or infinity on the validation pairs: give finite link logits")
        teacher_scores = evaluate_link(emb, own, link_split)
    out = distill_link_student(graph, link_split, emb.cpu(), own, config, seed, progress, device=dev)
    return LinkDistillResult(
        out.encoder.eval(), out.scorer.eval(), out.scores, teacher_scores, config, out.fit.history, link_split
    )


def _distill_from_heuristic(
    graph: Graph,
    split: Any,
    name: str,
    scorer: Any,
    config: Any,
    seed: int,
    progress: bool,
    dev: torch.device,
) -> LinkDistillResult:
    """:func:`distill_link` with a heuristic teacher: its scores on the split's training edges."""
    from g2m.methods import LINK_HEURISTICS
    from g2m.teachers.heuristic import HeuristicScorer
    from g2m.training.link import distill_link_student, evaluate_heuristic

    if name not in LINK_HEURISTICS:
        raise G2MError(f"encoder={name!r}: a teacher named by a string is a heuristic, one of {LINK_HEURISTICS}")
    if scorer is not None:
        raise G2MError(f"the {name} heuristic scores pairs itself: give scorer=None")
    try:
        heuristic = HeuristicScorer(name, split.message_edge_index, graph.num_nodes)
        teacher_scores = evaluate_heuristic(heuristic, split)
        out = distill_link_student(graph, split, None, heuristic, config, seed, progress, device=dev)
    except ValueError as err:  # what a heuristic cannot teach (repr matching, scorer dropout)
        raise G2MError(str(err)) from None
    return LinkDistillResult(
        out.encoder.eval(), out.scorer.eval(), out.scores, teacher_scores, config, out.fit.history, split
    )


def _embeddings(out: Any, num_nodes: int) -> Tensor:
    """A link teacher encoder's output, refused unless it is one finite ``[N, D]`` tensor."""
    if not isinstance(out, Tensor):
        raise G2MError(
            f"the encoder returned a {type(out).__name__}; g2m needs encoder(x, edge_index) to return one [N, D] "
            "tensor of node embeddings: wrap the module so that it returns the embeddings alone"
        )
    if out.dim() != 2 or out.size(0) != num_nodes:
        raise G2MError(
            f"the encoder's embeddings have shape {tuple(out.shape)}; expected [{num_nodes}, D], one row per node"
        )
    if not bool(torch.isfinite(out).all()):
        row = int((~torch.isfinite(out)).any(1).nonzero()[0])
        raise G2MError(f"the encoder's embeddings hold NaN or infinity (first in the row of node {row})")
    return out.float()


def _link_graph(data: Any, symmetrize: bool) -> Graph:
    if getattr(data, "x", None) is None or getattr(data, "edge_index", None) is None:
        raise InvalidGraphError("the Data object needs node features x and edge_index")
    return make_graph("own", data.x.cpu(), None, undirected_edges(data, "own", symmetrize), 0)
