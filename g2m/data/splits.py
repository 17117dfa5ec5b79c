"""Node splits, transductive and inductive, deterministic by seed.

* ``public``: the dataset's own masks (one split; or, for datasets shipped
  with ``S`` fixed splits, split ``seed % S``).
* ``random``: per-class random split, ``train_per_class`` (20) and
  ``val_per_class`` (30) nodes of every class, the rest for test, a new
  split per seed.
* ``glnn``: the GLNN / CPF protocol (``load_cpf_data`` in
  snap-research/graphless-neural-networks): the ``random`` split drawn on the
  graph's largest connected component (:func:`protocol_graph`; CPF drops the
  other components), a new split per seed.
* ``linkx``: LINKX's protocol for the Facebook100 graphs: 50% / 25% / 25% of the
  labelled nodes (label >= 0) at random, a new split per seed.
* inductive setting (GLNN protocol): a fraction (default 0.2) of the test
  nodes is held out together with every edge that touches it. Teacher and
  student train on the observed subgraph; held-out nodes are evaluated with
  the teacher run on the full graph.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace

import torch
from torch import Tensor

from g2m.data.graph import Graph, largest_connected_component
from g2m.device import cpu_generator
from g2m.errors import SplitError
from g2m.methods import NODE_SETTINGS
from g2m.methods import SPLIT_NAMES as _SPLIT_NAMES

SPLIT_NAMES = _SPLIT_NAMES
SETTINGS = NODE_SETTINGS


@dataclass(frozen=True)
class ObservedView:
    """What training may see: observed nodes' features, labels and edges, local indices."""

    x: Tensor
    y: Tensor
    edge_index: Tensor
    train: Tensor
    val: Tensor
    test: Tensor

    def to(self, device: torch.device | str) -> ObservedView:
        """This view with every tensor on ``device``."""
        return ObservedView(*(getattr(self, f).to(device) for f in ("x", "y", "edge_index", "train", "val", "test")))


@dataclass(frozen=True)
class NodeSplit:
    """Disjoint node index sets. ``observed`` lists the nodes visible in training:
    every node in the transductive setting, all but ``test_ind`` in the inductive one."""

    name: str
    setting: str
    seed: int
    train: Tensor
    val: Tensor
    test: Tensor
    test_ind: Tensor
    observed: Tensor
    #: :meth:`Graph.fingerprint` of the graph the split was made on ("" for a split built by hand)
    graph_key: str = ""

    @property
    def num_nodes(self) -> int:
        return int(self.observed.numel() + self.test_ind.numel())

    def to(self, device: torch.device | str) -> NodeSplit:
        """This split with its index sets on ``device``."""
        return replace(
            self, **{f: getattr(self, f).to(device) for f in ("train", "val", "test", "test_ind", "observed")}
        )

    def observed_edges(self, edge_index: Tensor) -> Tensor:
        """Edges whose two ends are both observed (no edge touches a held-out node)."""
        if self.test_ind.numel() == 0:
            return edge_index
        seen = torch.ones(self.num_nodes, dtype=torch.bool, device=edge_index.device)
        seen[self.test_ind] = False
        return edge_index[:, seen[edge_index[0]] & seen[edge_index[1]]]

    def observed_view(self, graph: Graph) -> ObservedView:
        """The observed subgraph with nodes relabelled ``0..len(observed)-1`` (every node observed,
        in order: the graph's own tensors, not copies)."""
        n = graph.num_nodes
        if (
            self.test_ind.numel() == 0
            and self.observed.numel() == n
            and bool((self.observed == torch.arange(n, device=self.observed.device)).all())
        ):
            return ObservedView(graph.x, graph.require_labels(), graph.edge_index, self.train, self.val, self.test)
        local = torch.full((graph.num_nodes,), -1, dtype=torch.long, device=self.observed.device)
        local[self.observed] = torch.arange(self.observed.numel(), device=self.observed.device)
        edges = local[self.observed_edges(graph.edge_index)]
        return ObservedView(
            x=graph.x[self.observed],
            y=graph.require_labels()[self.observed],
            edge_index=edges,
            train=local[self.train],
            val=local[self.val],
            test=local[self.test],
        )

    def fingerprint(self) -> str:
        """A short hash of the index sets, to tie cached teachers to this exact split."""
        h = hashlib.sha256()
        for part in (self.train, self.val, self.test, self.test_ind):
            h.update(part.to(torch.int64).cpu().numpy().tobytes())
            h.update(b"|")
        return h.hexdigest()[:16]

    def key(self) -> str:
        """The cache key of the split: setting, name, seed, a hash of its node sets and (when
        known) of the graph it was made on."""
        graph = f"-g{self.graph_key}" if self.graph_key else ""
        return f"{self.setting}-{self.name}-s{self.seed}-{self.fingerprint()}{graph}"


def _per_class_random(y: Tensor, num_classes: int, train_pc: int, val_pc: int, gen: torch.Generator):
    train, val, test = [], [], []
    for c in range(num_classes):
        idx = (y == c).nonzero().view(-1)
        idx = idx[torch.randperm(idx.numel(), generator=gen, device="cpu")]
        if idx.numel() < train_pc + val_pc + 1:
            raise SplitError(
                f"class {c} has {idx.numel()} nodes, fewer than train_per_class + "
                f"val_per_class + 1 = {train_pc + val_pc + 1}"
            )
        train.append(idx[:train_pc])
        val.append(idx[train_pc : train_pc + val_pc])
        test.append(idx[train_pc + val_pc :])
    return (torch.cat(p).sort().values for p in (train, val, test))


def labelled_fractions(y: Tensor, fractions: tuple[float, float], gen: torch.Generator):
    """Train / val take ``fractions`` of the labelled nodes at random, test the rest."""
    idx = (y >= 0).nonzero().view(-1)
    idx = idx[torch.randperm(idx.numel(), generator=gen, device="cpu")]
    n_train, n_val = (int(f * idx.numel()) for f in fractions)
    parts = idx[:n_train], idx[n_train : n_train + n_val], idx[n_train + n_val :]
    return (p.sort().values for p in parts)


def protocol_graph(graph: Graph, split: str) -> Graph:
    """The graph a split protocol is drawn on: the largest connected component for
    ``glnn`` (as CPF's ``standardize()``), ``graph`` itself otherwise."""
    return largest_connected_component(graph) if split == "glnn" else graph


def node_sets(num_nodes: int, sets: Mapping[str, object], owner: str) -> list[Tensor]:
    """The node index sets named in ``sets``, each a boolean mask over the ``num_nodes`` nodes or
    integer node indices, as sorted ``long`` index tensors; one :class:`~g2m.errors.SplitError`
    naming the set (``owner`` says whose: ``"split"``, a file) for anything else: another dtype, a
    mask of another length, a negative or out-of-range index, an index twice in a set, an empty
    set, or sets that share nodes. A mask is never read as indices, nor an index as a mask.
    Messages read ``"<name> in <owner> ..."``.

    Example:
        >>> mask = torch.tensor([True, False, True, False])
        >>> node_sets(4, {"train": mask, "val": torch.tensor([1]), "test": [3]}, "my split")
        [tensor([0, 2]), tensor([1]), tensor([3])]
    """
    out: list[Tensor] = []
    for name, value in sets.items():
        t = torch.as_tensor(value, device="cpu")
        what = f"{name} in {owner}"
        if t.dtype == torch.bool:
            if t.dim() != 1 or t.numel() != num_nodes:
                raise SplitError(
                    f"{what} is a boolean mask of shape {tuple(t.shape)}; a mask has one entry per node ({num_nodes},)"
                )
            idx = t.nonzero().view(-1)
        elif not t.dtype.is_floating_point and not t.dtype.is_complex:
            if t.dim() > 1:
                raise SplitError(f"{what} has shape {tuple(t.shape)}; give a 1-D tensor of node indices or a mask")
            idx = t.long().view(-1)
            if idx.numel() and int(idx.min()) < 0:
                raise SplitError(
                    f"{what} holds a negative index ({int(idx.min())}); node indices run from 0 to {num_nodes - 1}"
                )
            if idx.numel() and int(idx.max()) >= num_nodes:
                raise SplitError(
                    f"{what} holds index {int(idx.max())}, beyond the graph's {num_nodes} nodes (0 to {num_nodes - 1})"
                )
            idx = idx.sort().values
            if idx.numel() > 1 and bool((idx[1:] == idx[:-1]).any()):
                twice = int(idx[1:][idx[1:] == idx[:-1]][0])
                raise SplitError(f"{what} lists node {twice} more than once; give each node once")
        else:
            raise SplitError(f"{what} has dtype {t.dtype}; give a boolean mask or integer node indices")
        if idx.numel() == 0:
            raise SplitError(f"{what} is empty")
        out.append(idx)
    seen = torch.full((num_nodes,), -1, dtype=torch.long, device="cpu")
    names = list(sets)
    for k, idx in enumerate(out):
        clash = seen[idx] >= 0
        if bool(clash.any()):
            other, shared = names[int(seen[idx][clash][0])], idx[clash]
            raise SplitError(
                f"{other} and {names[k]} in {owner} share {shared.numel()} node(s) (first: {int(shared[0])}); "
                f"the sets must be disjoint"
            )
        seen[idx] = k
    return out


def _from_masks(graph: Graph, seed: int) -> tuple[Tensor, Tensor, Tensor]:
    if not graph.masks:
        raise SplitError(
            f"dataset {graph.name!r} has no masks of its own (no public split): draw one with the random or glnn "
            f"split (--split random on the command line, split='random' in Python)"
        )
    masks = {}
    for key in ("train", "val", "test"):
        mask = graph.masks[key]
        masks[key] = mask[:, seed % mask.size(1)] if mask.dim() == 2 else mask
    train, val, test = node_sets(graph.num_nodes, masks, f"{graph.name}'s masks")
    return train, val, test


def make_node_split(
    graph: Graph,
    split: str = "public",
    setting: str = "transductive",
    seed: int = 0,
    inductive_fraction: float = 0.2,
    train_per_class: int = 20,
    val_per_class: int = 30,
) -> NodeSplit:
    """Build a :class:`NodeSplit` of ``graph``; the same arguments give the same split."""
    if split not in SPLIT_NAMES:
        raise SplitError(f"unknown split {split!r}; choose one of {SPLIT_NAMES}")
    if setting not in SETTINGS:
        raise SplitError(f"unknown setting {setting!r}; choose one of {SETTINGS}")
    if not 0.0 < inductive_fraction < 1.0:
        raise SplitError(f"inductive_fraction must be in (0, 1), got {inductive_fraction}")
    if train_per_class < 1 or val_per_class < 1:
        raise SplitError("train_per_class and val_per_class must be positive")
    y = graph.require_labels()
    gen = cpu_generator(seed)
    if split in ("random", "glnn"):
        train, val, test = _per_class_random(y, graph.num_classes, train_per_class, val_per_class, gen)
    elif split == "linkx":
        train, val, test = labelled_fractions(y, (0.5, 0.25), gen)
    else:
        train, val, test = _from_masks(graph, seed)
    if min(train.numel(), val.numel(), test.numel()) == 0:
        raise SplitError(f"split {split!r} of {graph.name!r} has an empty train, val or test set")

    test_ind = torch.empty(0, dtype=torch.long, device="cpu")
    if setting == "inductive":
        perm = test[torch.randperm(test.numel(), generator=gen, device="cpu")]
        num_held = max(1, int(round(inductive_fraction * test.numel())))
        test_ind, test = perm[:num_held].sort().values, perm[num_held:].sort().values
    held = torch.zeros(graph.num_nodes, dtype=torch.bool, device="cpu")
    held[test_ind] = True
    observed = (~held).nonzero().view(-1)
    return NodeSplit(split, setting, seed, train, val, test, test_ind, observed, graph.fingerprint())
