"""Train a node-classification teacher and produce the outputs the cache stores.

Inductive setting (GLNN protocol): the teacher trains on the observed subgraph
only. Observed nodes' logits come from the teacher run on the observed graph;
held-out (inductive test) nodes' logits from the same model run on the full graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import torch
from torch import Tensor

from g2m import distributed as dist
from g2m.config import TeacherConfig
from g2m.data.graph import Graph
from g2m.data.neighbour_sampler import NeighbourSampler
from g2m.data.sampling import Neighbourhood
from g2m.data.splits import NodeSplit
from g2m.device import cpu_generator, resolve_device, to_device_async
from g2m.evaluation.metrics import node_metric, node_scores
from g2m.losses.dirichlet import TeacherLayers
from g2m.losses.node import label_ce
from g2m.losses.tokens import TeacherTokens
from g2m.ops.sparse import sparse_features
from g2m.students.reliability import entropy_shift
from g2m.teachers.inference import ShardedInference, sharded_inference
from g2m.teachers.injection import has_injectable_layers, sage_layers
from g2m.teachers.knowledge import TeacherKnowledge
from g2m.teachers.models import GNN, build_teacher
from g2m.teachers.tokenizer import VQGraphTokenizer
from g2m.training.loop import FitResult, fit


@dataclass
class NodeTeacherOutput:
    logits: Tensor  # [N, C], every node of the graph
    hidden: Tensor  # [N, H], input of the last layer
    scores: dict[str, float]  # val / test / test_ind
    model: GNN
    fit: FitResult
    #: [N] KRD's reliability signal for the observed nodes (NaN elsewhere; None for mini-batch
    #: teachers): see :func:`g2m.students.reliability.entropy_shift`
    entropy_shift: Tensor | None = None
    #: ``(start, stop)``: ``logits`` and ``hidden`` hold these rows only (a data-parallel rank's
    #: slice, ``train_node_teacher(..., gather=False)``); None: every node
    rows: tuple[int, int] | None = None
    #: a vqgcn teacher's codebook and every node's quantiser input (None: other teachers)
    tokens: TeacherTokens | None = None
    #: a GraphSAGE (gcn aggregator) teacher's transforms and DE ratios on its graph (TINED); None: others
    layers: TeacherLayers | None = None

    def knowledge(self) -> TeacherKnowledge:
        """What this teacher gives its students."""
        return TeacherKnowledge(
            self.logits, self.hidden, self.entropy_shift, self.fit.seconds, self.tokens, self.layers
        )


def train_node_teacher(
    graph: Graph,
    split: NodeSplit,
    config: TeacherConfig,
    seed: int = 0,
    metric: str = "accuracy",
    progress: bool = True,
    device: str | torch.device | None = None,
    gather: bool = True,
) -> NodeTeacherOutput:
    """Train ``config``'s GNN on the split's observed graph, on ``device`` (default ``auto``).

    The model is initialised on the CPU from ``seed`` and moved; mini-batches are sampled on
    the CPU (PyG's ``NeighborLoader`` or g2m's CSR sampler) and copied to the device. The
    returned logits, hidden layer and entropy shift are on the CPU (what the cache stores),
    the model on ``device``.

    Data-parallel (a mini-batch teacher inside a process group, :mod:`g2m.distributed`): every
    rank draws the same global batch of training seeds and samples the neighbourhoods of its
    part of it, as PyG's multi-GPU examples do; the loss is the rank's share of the global
    batch's mean, and DistributedDataParallel averages the gradients. Validation and the final
    logits come from :func:`~g2m.teachers.inference.sharded_inference`, each rank computing its
    range of nodes. Batch norm is synchronised on CUDA (:func:`g2m.distributed.wrap`), and each
    rank samples neighbours from its own generator. With ``gather=False`` (transductive, accuracy)
    the final logits and hidden layer are not all-gathered: each rank returns its own rows
    (``rows``), the scores counted over every rank's, for the rank to write its slice of the cache
    entry (:meth:`g2m.cache.TeacherCache.save_row_shards`)."""
    dev = resolve_device(device)
    parallel = dist.is_distributed() and config.batch_size is not None
    torch.manual_seed(seed)
    cpu_view = split.observed_view(graph)
    view = cpu_view.to(dev)
    built = build_node_teacher(config, graph.num_features, graph.num_classes).to(dev)
    # VQGraph's tokenizer answers a GNN's calls (adjacency, forward with return_hidden); it trains
    # full batch in one process (TeacherConfig refuses a batch_size for it), never sharded
    tokenizer = built if isinstance(built, VQGraphTokenizer) else None
    model = cast(GNN, built)
    # full-graph operands: CSR features, and (but for data-parallel teachers, whose inference is
    # sharded) the CSR adjacency
    x_obs = sparse_features(view.x)
    adj_obs = None if parallel else model.adjacency(view.edge_index, view.x.size(0))

    trained = dist.wrap(model) if parallel else model  # DistributedDataParallel in a process group

    def step(batch: tuple[Neighbourhood, float] | None = None):
        if batch is None:
            if tokenizer is not None:
                assert adj_obs is not None  # full batch
                out, tokens_loss = tokenizer.loss_forward(x_obs, adj_obs)
                ce = label_ce(out[view.train], view.y[view.train])
                return ce + tokens_loss, {"ce": float(ce.detach()), "tokenizer": float(tokens_loss.detach())}
            out = model(x_obs, adj_obs)
            return label_ce(out[view.train], view.y[view.train]), {}
        hood, share = batch
        nodes, edges = to_device_async(hood.nodes, dev), to_device_async(hood.edge_index, dev)
        out = trained(view.x[nodes], edges)[: hood.num_seeds]
        return label_ce(out, view.y[nodes[: hood.num_seeds]]) * share, {}

    batches = None
    if config.batch_size is not None:
        if len(config.fanouts) != config.num_layers:
            raise ValueError(f"need one fan-out per layer: {config.num_layers} layers, fanouts={config.fanouts}")
        gen = cpu_generator(seed)  # the global batches' order, the same on every rank
        # a single process samples from the same generator (as before data-parallel training existed)
        sample_gen = cpu_generator(seed * 1_000_003 + dist.rank() + 1) if parallel else gen
        sampler = NeighbourSampler(cpu_view.edge_index, view.x.size(0), config.fanouts, config.sampler, sample_gen)
        world = dist.world_size()

        def batches():
            order = cpu_view.train[torch.randperm(cpu_view.train.numel(), generator=gen, device="cpu")]
            for seeds in order.split(config.batch_size):
                mine = dist.part(seeds)  # the whole batch in a single process
                # the rank's mean, as its share of the global batch's mean (DDP averages over ranks);
                # a rank left without seeds (a last batch smaller than the world) still takes part, at 0
                share = mine.numel() / seeds.numel() * world
                yield sampler(mine if mine.numel() else seeds[:1]), share

    sharded = ShardedInference(model, x_obs, view.edge_index) if parallel else None

    def validate() -> float:
        out = sharded(model, hidden=False)[0] if sharded is not None else model(x_obs, adj_obs)
        return node_metric(out[view.val], view.y[view.val], metric)

    result = fit(
        trained,
        step,
        validate,
        lr=config.lr,
        weight_decay=config.weight_decay,
        epochs=config.epochs,
        patience=config.patience,
        desc=f"teacher {config.model} seed {seed}",
        progress=progress,
        batches=batches,
        tie_break=config.tie_break,
    )

    def infer(observed_graph: bool) -> tuple[Tensor, Tensor]:
        """Logits and hidden layer of every node of the observed graph, or of the full graph."""
        if observed_graph:
            if sharded is None:
                return model(x_obs, adj_obs, return_hidden=True)
            logits, hidden = sharded(model)
            assert hidden is not None
            return logits, hidden
        x_all, edges_all = sparse_features(graph.x.to(dev)), graph.edge_index.to(dev)
        if parallel:
            return sharded_inference(model, x_all, edges_all)
        return model(x_all, model.adjacency(edges_all, graph.num_nodes), return_hidden=True)

    if parallel and not gather:
        if split.test_ind.numel() or metric != "accuracy":
            raise ValueError("a teacher's rows stay sharded (gather=False) in the transductive setting, with accuracy")
        assert sharded is not None
        logits, hidden = sharded(model, gather=False)
        assert hidden is not None
        logits, hidden = logits.cpu(), hidden.cpu()
        scores = _sharded_accuracy(logits, graph, split, sharded.start, dev)
        return NodeTeacherOutput(logits, hidden, scores, model, result, None, (sharded.start, sharded.stop))
    with torch.no_grad():
        inductive = split.test_ind.numel() > 0  # held-out nodes: the full graph, then observed nodes as trained
        logits, hidden = infer(observed_graph=not inductive)
        if inductive:
            obs_logits, obs_hidden = infer(observed_graph=True)
            observed = split.observed.to(dev)
            logits[observed], hidden[observed] = obs_logits, obs_hidden
        shift = None
        if config.batch_size is None:  # full-batch teachers: one more forward pass, on noisy features
            shift = torch.full((graph.num_nodes,), float("nan"), device="cpu")
            clean = logits[split.observed.to(dev)]
            shift[split.observed] = entropy_shift(lambda x: model(x, adj_obs), view.x, clean, seed=seed).cpu()
        tokens = None
        if tokenizer is not None:  # as the logits: observed nodes from the observed graph, held-out ones from all
            assert adj_obs is not None  # full batch
            code_input = tokenizer.code_input(x_obs, adj_obs)
            if inductive:
                x_all, edges_all = sparse_features(graph.x.to(dev)), graph.edge_index.to(dev)
                observed_rows = code_input
                code_input = tokenizer.code_input(x_all, tokenizer.adjacency(edges_all, graph.num_nodes))
                code_input[split.observed.to(dev)] = observed_rows
            tokens = TeacherTokens(code_input.cpu(), tokenizer.codebook.embed.detach().cpu().clone())
        layers = None
        if has_injectable_layers(model):  # what TINED reads, on the graph the teacher trained on
            layers = sage_layers(model, view.x, view.edge_index)  # view: on dev
    logits, hidden = logits.cpu(), hidden.cpu()  # what the cache stores, whatever the device
    scores = node_scores(logits, graph, split, metric)
    return NodeTeacherOutput(logits, hidden, scores, model, result, shift, tokens=tokens, layers=layers)


def build_node_teacher(config: TeacherConfig, in_dim: int, out_dim: int) -> GNN | VQGraphTokenizer:
    """``config``'s node teacher, initialised from torch's current random state: a GNN, or VQGraph's
    tokenizer (``vqgcn``)."""
    if config.model == "vqgcn":
        return VQGraphTokenizer(
            in_dim,
            out_dim,
            hidden=config.hidden,
            dropout=config.dropout,
            codebook_size=config.codebook_size,
            node_weight=config.node_reconstruction_weight,
            edge_weight=config.edge_reconstruction_weight,
            commitment_weight=config.commitment_weight,
            decay=config.codebook_decay,
        )
    return build_teacher(config.model, in_dim, out_dim, **config.model_kwargs())


def _sharded_accuracy(rows: Tensor, graph: Graph, split: NodeSplit, start: int, dev: torch.device) -> dict[str, float]:
    """:func:`node_scores` (accuracy) of every rank's rows ``[start, start + len(rows))``: each
    rank counts its own nodes of each evaluation set, and the counts are summed over the ranks."""
    y = graph.require_labels()
    scores = {}
    for name, nodes in (("val", split.val), ("test", split.test)):
        mine = nodes[(nodes >= start) & (nodes < start + rows.size(0))]
        correct = int((rows[mine - start].argmax(-1) == y[mine]).sum())
        right, total = dist.sum_counts(correct, mine.numel(), device=dev)
        scores[name] = right / total
    return scores
