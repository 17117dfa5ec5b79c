r"""Position features for MLP students (NOSMOG, Tian et al., ICLR 2023).

An MLP sees each node's features alone, so two nodes with equal features but different
places in the graph look the same to it. NOSMOG appends a DeepWalk embedding of the node to
its features (``--dw`` in meettyj/NOSMOG, ``train_student.py``):

* the embeddings are learnt on the **observed** graph only (the transductive graph, or the
  inductive setting's observed subgraph), so no held-out node or edge leaks into training;
* a node that was not observed gets the mean embedding of its observed neighbours,

  .. math:: p_v = \frac{1}{|N(v) \cap O|} \sum_{u \in N(v) \cap O} p_u,

  and zeros when it has none. That lookup is the only graph access the student makes at
  inference, and the latency benchmark counts it.

DeepWalk learns the table from uniform random walks (:func:`g2m.data.sampling.random_walk`:
torch-cluster's kernel when installed, else g2m's), ``walks_per_node`` walks of ``walk_length``
nodes from every node, in a fresh node order per round, as NOSMOG's walker. Two learners:

* ``backend="gensim"`` (default, NOSMOG's): gensim's ``Word2Vec`` on the walks as sentences,
  skip-gram with hierarchical softmax and 5 negative samples, a symmetric ``window``, SGD from
  ``alpha`` 0.025 decaying linearly over ``epochs`` passes over every token, one worker and a
  stable hash of the seed, so that the table is the same in every process. gensim is an optional
  dependency (``pip install gensim``; asking for it without it is an error, not a fallback).
* ``backend="torch"``: g2m <= 0.1's skip-gram with negative sampling trained with SparseAdam
  (PyG Node2Vec's objective at :math:`p = q = 1`): for each window of ``window + 1``
  consecutive walk nodes starting at :math:`u` with context :math:`v`, and a random node
  :math:`n` in place of :math:`v`,
  :math:`\mathcal{L} = -\log\sigma(e_u^\top e_v) - \log(1 - \sigma(e_u^\top e_n))`, averaged
  over a batch of start nodes. At NOSMOG's settings (Cora: 5 walks of 50, 1 epoch) it makes ~20
  steps from an N(0, 1) table and barely moves from it: a linear probe on the table alone scores
  near chance (docs/results/beyond.md). Kept to reproduce older results.
* ``backend="random"``: an N(0, 1) table of the same shape, no walk at all: the control that says
  whether a student's gain comes from the graph's structure or from extra random inputs (an
  unseen node still gets the mean of its observed neighbours' rows).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from g2m.data.sampling import CSR, random_walk, to_csr
from g2m.device import cpu_generator
from g2m.methods import POSITION_BACKENDS


@dataclass(frozen=True)
class DeepWalkSettings:
    """DeepWalk's knobs (NOSMOG's ``dw_*`` settings)."""

    dim: int = 64
    walk_length: int = 50
    walks_per_node: int = 5
    window: int = 5
    epochs: int = 1
    lr: float = 0.01
    batch_size: int = 128
    backend: str = "gensim"

    def __post_init__(self) -> None:
        if self.backend not in POSITION_BACKENDS:
            raise ValueError(
                f"position features: backend must be one of {', '.join(POSITION_BACKENDS)}, got {self.backend!r}"
            )
        for name in ("dim", "walk_length", "walks_per_node", "window", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"position features: {name} must be at least 1, got {getattr(self, name)}")
        if self.window >= self.walk_length:
            raise ValueError(
                f"position features: window ({self.window}) must be shorter than the walk ({self.walk_length})"
            )


def position_settings(config: Any) -> DeepWalkSettings:
    """The DeepWalk settings of a student config's ``position_*`` fields."""
    return DeepWalkSettings(
        dim=config.position_dim,
        walk_length=config.position_walk_length,
        walks_per_node=config.position_walks,
        window=config.position_window,
        epochs=config.position_epochs,
        backend=config.position_backend,
    )


def deepwalk(
    edge_index: Tensor, num_nodes: int, settings: DeepWalkSettings, seed: int = 0, walker: str = "auto"
) -> Tensor:
    """``[num_nodes, dim]`` DeepWalk embeddings of the graph ``edge_index`` (see the module
    docstring for the two backends); deterministic in ``seed``, and the global random state is
    left as it was."""
    if settings.backend == "gensim":
        return _deepwalk_gensim(edge_index, num_nodes, settings, seed, walker)
    if settings.backend == "random":  # the control: a table of the same shape that knows no graph
        return torch.randn(num_nodes, settings.dim, generator=cpu_generator(seed), device="cpu")
    csr = to_csr(edge_index, num_nodes)
    gen = cpu_generator(seed)
    c = settings.window + 1
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # the embedding's initialisation, and torch-cluster's walks
        emb = torch.nn.Embedding(num_nodes, settings.dim, sparse=True)
        opt = torch.optim.SparseAdam(list(emb.parameters()), lr=settings.lr)
        for _ in range(settings.epochs):
            for batch in torch.randperm(num_nodes, generator=gen, device="cpu").split(settings.batch_size):
                walks = random_walk(csr, batch.repeat(settings.walks_per_node), settings.walk_length, gen, walker)
                pos = walks.unfold(1, c, 1).reshape(-1, c)  # every window of c consecutive nodes
                neg = torch.cat(
                    [pos[:, :1], torch.randint(num_nodes, (pos.size(0), c - 1), generator=gen, device="cpu")], 1
                )
                opt.zero_grad()
                loss = _skipgram_loss(emb, pos, positive=True) + _skipgram_loss(emb, neg, positive=False)
                loss.backward()
                opt.step()
    return emb.weight.detach().clone()


def _stable_hash(text: str) -> int:
    """gensim's per-word initialisation seed: Python's ``hash`` of a string changes from process to
    process (PYTHONHASHSEED), so the table would too; CRC-32 does not."""
    return zlib.crc32(text.encode())


def _deepwalk_gensim(edge_index: Tensor, num_nodes: int, settings: DeepWalkSettings, seed: int, walker: str) -> Tensor:
    try:
        from gensim.models import Word2Vec
    except ImportError:
        raise ImportError(
            "position features with backend 'gensim' (NOSMOG's DeepWalk) need the gensim package: "
            "pip install gensim, or set position_backend to torch"
        ) from None
    csr = to_csr(edge_index, num_nodes)
    gen = cpu_generator(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # torch-cluster's walks draw from the global generator
        rounds = [
            random_walk(
                csr, torch.randperm(num_nodes, generator=gen, device="cpu"), settings.walk_length - 1, gen, walker
            )
            for _ in range(settings.walks_per_node)
        ]
    sentences = [[str(v) for v in walk] for walks in rounds for walk in walks.tolist()]
    model = Word2Vec(
        sentences,
        vector_size=settings.dim,
        window=settings.window,
        min_count=0,
        sg=1,
        hs=1,
        negative=5,
        workers=1,
        epochs=settings.epochs,
        seed=seed,
        hashfxn=_stable_hash,
    )
    return torch.from_numpy(np.stack([model.wv[str(v)] for v in range(num_nodes)])).float()


def _skipgram_loss(emb: torch.nn.Embedding, windows: Tensor, positive: bool) -> Tensor:
    r"""Mean of :math:`-\log\sigma(\pm e_u^\top e_v)` over every (start, other) pair of each window."""
    start = emb(windows[:, :1])  # [W, 1, d]
    rest = emb(windows[:, 1:])  # [W, c - 1, d]
    logits = (start * rest).sum(-1)
    return -torch.nn.functional.logsigmoid(logits if positive else -logits).mean()


def lookup_position(csr: CSR, table: Tensor, nodes: Tensor, known: Tensor | None = None) -> Tensor:
    """Position features of ``nodes`` never observed in training: the mean of ``table`` over
    each node's neighbours (rows of ``csr``), only those ``known`` (a bool mask; default: all),
    zeros where there are none. Reads the batch's own adjacency rows only: the one
    neighbourhood read a position-feature student makes at serving time."""
    owner, nbr = csr.neighbours(nodes)
    weight = (
        torch.ones(nbr.numel(), dtype=table.dtype, device=table.device) if known is None else known[nbr].to(table.dtype)
    )
    total = table.new_zeros(nodes.numel(), table.size(1)).index_add_(0, owner, table[nbr] * weight[:, None])
    count = table.new_zeros(nodes.numel()).index_add_(0, owner, weight).clamp(min=1)
    return total / count[:, None]


def position_features(
    num_nodes: int,
    edge_index: Tensor,
    observed: Tensor,
    observed_edge_index: Tensor,
    settings: DeepWalkSettings,
    seed: int = 0,
) -> Tensor:
    """``[num_nodes, dim]`` position features: DeepWalk on the observed graph
    (``observed_edge_index``, nodes numbered as ``observed``) for the observed nodes, the mean
    over observed neighbours in the full (undirected) graph ``edge_index`` for the others."""
    # DeepWalk runs on the CPU (its walks and sparse updates); the caller moves the table
    edge_index, observed, observed_edge_index = edge_index.cpu(), observed.cpu(), observed_edge_index.cpu()
    table = torch.zeros(num_nodes, settings.dim, device="cpu")
    table[observed] = deepwalk(observed_edge_index, observed.numel(), settings, seed)
    known = torch.zeros(num_nodes, dtype=torch.bool, device="cpu")
    known[observed] = True
    unseen = (~known).nonzero().view(-1)
    if unseen.numel():
        table[unseen] = lookup_position(to_csr(edge_index, num_nodes), table, unseen, known)
    return table


class PositionedStudent(torch.nn.Module):
    """An MLP student whose input is the node features followed by the node's row of a fixed
    position table (NOSMOG's position features), so that it takes raw node features.

    Shapes:
        input: ``x`` ``[B, F]`` and ``index`` ``[B]`` (the nodes' rows in the table; default:
        ``x`` holds every node in table order, ``B = N``); output ``[B, C]``.
    """

    position: Tensor

    def __init__(self, mlp: torch.nn.Module, position: Tensor) -> None:
        super().__init__()
        self.mlp = mlp
        self.register_buffer("position", position)

    def forward(self, x: Tensor, index: Tensor | None = None) -> Tensor:
        if index is None:
            if x.size(0) != self.position.size(0):
                raise ValueError(
                    f"{x.size(0)} rows of features for a position table of {self.position.size(0)} "
                    f"nodes: pass index=, the nodes' rows"
                )
            rows = self.position
        else:
            rows = self.position[index.to(self.position.device)]
        return self.mlp(torch.cat([x, rows.to(x.device)], dim=1))
