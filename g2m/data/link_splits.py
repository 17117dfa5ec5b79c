"""Link-prediction splits, deterministic by seed.

* ``transductive``: the undirected edges are shuffled and cut 85/5/10 into
  train/val/test positives (as LLP); val and test get as many negatives,
  uniform node pairs that are not edges of the full graph. Training sees only
  the train positives as its message-passing graph.
* ``production`` (inductive): a fraction of nodes (default 0.1) is held out
  with every edge that touches it. Edges among observed nodes are cut into
  train/val; the test positives are the held-out nodes' edges and the test
  negatives are pairs with a held-out end, so models are scored on nodes they
  never saw, whose edges they cannot use.
* OGB link datasets use their official ``train``/``valid``/``test`` edges.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import torch
from torch import Tensor
from torch_geometric.utils import to_undirected

from g2m.data.graph import Graph
from g2m.errors import SplitError

LINK_SETTINGS = ("transductive", "production", "ogb")


@dataclass(frozen=True)
class LinkSplit:
    """Positive/negative edges as ``[2, K]`` tensors (one direction per edge)."""

    setting: str
    seed: int
    num_nodes: int
    train_pos: Tensor
    val_pos: Tensor
    val_neg: Tensor
    test_pos: Tensor
    test_neg: Tensor
    held_out: Tensor
    #: :meth:`~g2m.data.graph.Graph.fingerprint` of the graph the split was made on ("" by hand)
    graph_key: str = ""

    @property
    def message_edge_index(self) -> Tensor:
        """The graph visible in training: train positives in both directions."""
        return to_undirected(self.train_pos, num_nodes=self.num_nodes)

    def to(self, device: torch.device | str) -> LinkSplit:
        """This split with its edge and node sets on ``device``."""
        parts = ("train_pos", "val_pos", "val_neg", "test_pos", "test_neg", "held_out")
        return replace(self, **{name: getattr(self, name).to(device) for name in parts})

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for part in (self.train_pos, self.val_pos, self.val_neg, self.test_pos, self.test_neg):
            h.update(part.to(torch.int64).cpu().numpy().tobytes())
            h.update(b"|")
        return h.hexdigest()[:16]

    def key(self) -> str:
        graph = f"-g{self.graph_key}" if self.graph_key else ""
        return f"link-{self.setting}-s{self.seed}-{self.fingerprint()}{graph}"


EDGE_SETS = ("train_pos", "val_pos", "val_neg", "test_pos", "test_neg")


def check_link_split(split: object, num_nodes: int, name: str = "split") -> LinkSplit:
    """``split`` if it is a :class:`LinkSplit` of a graph of ``num_nodes`` nodes whose edge sets are
    ``[2, K]`` integer tensors of node ids in range, none empty, no validation or test positive
    among the training positives (in either direction; an ``ogb`` split is OGB's own, checked for
    shapes and ranges only), and, in the production setting, no training edge touching a
    held-out node; else one :class:`~g2m.errors.SplitError` naming the
    part (``name``: how the caller calls the split)."""
    if not isinstance(split, LinkSplit):
        raise SplitError(
            f"{name} must be a LinkSplit (g2m.data.link_splits.make_link_split(graph, setting, seed), or "
            f"LinkSplit(...) of your own edges), got a {type(split).__name__}"
        )
    if split.setting not in LINK_SETTINGS:
        raise SplitError(f"{name}.setting is {split.setting!r}; choose one of {LINK_SETTINGS}")
    if split.num_nodes != num_nodes:
        raise SplitError(f"{name}.num_nodes is {split.num_nodes} but the graph has {num_nodes} nodes")
    for part in (*EDGE_SETS, "held_out"):
        t = getattr(split, part)
        where = f"{name}.{part}"
        if not isinstance(t, Tensor):
            raise SplitError(f"{where} must be a tensor, got a {type(t).__name__}")
        if t.dtype not in (torch.int32, torch.int64):
            raise SplitError(f"{where} has dtype {t.dtype}; node ids are integers (torch.long)")
        if part == "held_out":
            if t.dim() != 1:
                raise SplitError(f"{where} must be a 1-D tensor of node ids, got shape {tuple(t.shape)}")
        elif t.dim() != 2 or t.size(0) != 2:
            hint = f": it looks transposed, pass {where}.t()" if t.dim() == 2 and t.size(1) == 2 else ""
            raise SplitError(f"{where} must have shape [2, K] (one column per pair), got {tuple(t.shape)}{hint}")
        elif t.size(1) == 0:
            raise SplitError(f"{where} is empty: every edge set of a link split needs at least one pair")
        if t.numel() and (int(t.min()) < 0 or int(t.max()) >= num_nodes):
            raise SplitError(
                f"{where} holds node id {int(t.min()) if int(t.min()) < 0 else int(t.max())}, outside [0, {num_nodes})"
            )
    if split.setting == "ogb":  # the official split is what it is (ogbl-collab repeats pairs across years)
        return split
    train = torch.cat([_pair_id(split.train_pos, num_nodes), _pair_id(split.train_pos.flip(0), num_nodes)]).unique()
    for part in ("val_pos", "test_pos"):
        ids = _pair_id(getattr(split, part), num_nodes)
        shared = int(torch.isin(ids, train).sum())
        if shared:
            raise SplitError(
                f"{name}.{part} shares {shared} edge(s) with {name}.train_pos: the model would see the edges it is "
                "scored on; take them out of the training edges"
            )
    if split.setting == "production" and split.held_out.numel():
        held = torch.zeros(num_nodes, dtype=torch.bool, device=split.train_pos.device)
        held[split.held_out.long().to(held.device)] = True
        touching = int((held[split.train_pos[0].long()] | held[split.train_pos[1].long()]).sum())
        if touching:
            raise SplitError(
                f"{name}.train_pos has {touching} edge(s) touching a held-out node ({name}.held_out): the production "
                "setting keeps every edge of a held-out node out of training"
            )
    return split


def _pair_id(edges: Tensor, n: int) -> Tensor:
    return edges[0] * n + edges[1]


def sample_negatives(
    num: int,
    num_nodes: int,
    forbidden: Tensor,
    gen: torch.Generator,
    sources: Tensor | None = None,
) -> Tensor:
    """``num`` distinct-endpoint pairs that are not in ``forbidden`` (``[2, E]``, either
    direction). With ``sources``, the first end of each pair is drawn from it."""
    forbidden_ids = torch.cat([_pair_id(forbidden, num_nodes), _pair_id(forbidden.flip(0), num_nodes)])
    forbidden_ids = forbidden_ids.unique()
    if num_nodes * (num_nodes - 1) - forbidden_ids.numel() < num:
        raise SplitError("graph too dense to sample the requested negatives")
    out, have = [], 0
    while have < num:
        draw = 2 * (num - have) + 16
        if sources is None:
            src = torch.randint(num_nodes, (draw,), generator=gen, device="cpu")
        else:
            src = sources[torch.randint(sources.numel(), (draw,), generator=gen, device="cpu")]
        dst = torch.randint(num_nodes, (draw,), generator=gen, device="cpu")
        cand = torch.stack([src, dst])
        ids = _pair_id(cand, num_nodes)
        pos = torch.searchsorted(forbidden_ids, ids).clamp(max=forbidden_ids.numel() - 1)
        ok = (src != dst) & (forbidden_ids[pos] != ids)
        cand = cand[:, ok]
        out.append(cand)
        have += cand.size(1)
    return torch.cat(out, dim=1)[:, :num]


def make_link_split(
    graph: Graph,
    setting: str = "transductive",
    seed: int = 0,
    val_fraction: float = 0.05,
    test_fraction: float = 0.10,
    held_out_fraction: float = 0.10,
) -> LinkSplit:
    if setting not in LINK_SETTINGS:
        raise SplitError(f"unknown link setting {setting!r}; choose one of {LINK_SETTINGS}")
    if seed < 0:
        raise SplitError(f"link split seed must be non-negative, got {seed}")
    for label, frac in (("val", val_fraction), ("test", test_fraction), ("held-out", held_out_fraction)):
        if not 0.0 < frac < 1.0:
            raise SplitError(f"{label} fraction must be in (0, 1), got {frac}")
    if val_fraction + test_fraction >= 1.0:
        raise SplitError("val_fraction + test_fraction must be below 1")
    n = graph.num_nodes
    empty = torch.empty(0, dtype=torch.long, device="cpu")
    if setting == "ogb":
        if graph.link_split is None:
            raise SplitError(f"dataset {graph.name!r} has no official link split")
        ls = graph.link_split
        return LinkSplit(
            "ogb",
            seed,
            n,
            ls["train/edge"].t(),
            ls["valid/edge"].t(),
            ls["valid/edge_neg"].t(),
            ls["test/edge"].t(),
            ls["test/edge_neg"].t(),
            empty,
            graph.fingerprint(),
        )

    gen = torch.Generator(device="cpu").manual_seed(seed)
    ei = graph.edge_index
    edges = ei[:, ei[0] < ei[1]]
    edges = edges[:, torch.randperm(edges.size(1), generator=gen, device="cpu")]
    if setting == "transductive":
        held = empty
        n_val = max(1, int(val_fraction * edges.size(1)))
        n_test = max(1, int(test_fraction * edges.size(1)))
        val_pos, test_pos = edges[:, :n_val], edges[:, n_val : n_val + n_test]
        train_pos = edges[:, n_val + n_test :]
        test_neg = sample_negatives(n_test, n, ei, gen)
    else:
        held = torch.randperm(n, generator=gen, device="cpu")[: max(1, int(held_out_fraction * n))].sort().values
        is_held = torch.zeros(n, dtype=torch.bool, device="cpu")
        is_held[held] = True
        touches = is_held[edges[0]] | is_held[edges[1]]
        test_pos, seen = edges[:, touches], edges[:, ~touches]
        n_val = max(1, int(val_fraction * seen.size(1)))
        val_pos, train_pos = seen[:, :n_val], seen[:, n_val:]
        test_neg = sample_negatives(test_pos.size(1), n, ei, gen, sources=held)
    if min(train_pos.size(1), val_pos.size(1), test_pos.size(1)) == 0:
        raise SplitError(f"link split of {graph.name!r} left an empty train, val or test set")
    val_neg = sample_negatives(val_pos.size(1), n, ei, gen)
    return LinkSplit(setting, seed, n, train_pos, val_pos, val_neg, test_pos, test_neg, held, graph.fingerprint())


def ogb_split_edge(split: LinkSplit) -> dict[str, dict[str, Tensor]]:
    """The split as OGB's ``get_edge_split()`` dict: ``{"train": {"edge"}, "valid": {"edge",
    "edge_neg"}, "test": {"edge", "edge_neg"}}``, each an ``[K, 2]`` long tensor.

    It is the format OGB's link datasets ship and the one the official LLP code saves its
    own split in (``split_edge`` in snap-research/linkless-link-prediction, ``src/utils.py``),
    so that other code can be run on exactly g2m's edges. Transductive splits only: a
    production split also needs the held-out nodes' features withheld, which this dict
    cannot say."""
    if split.setting != "transductive":
        raise SplitError(
            f"only transductive link splits can be written as an OGB split_edge dict, not {split.setting!r}"
        )
    as_rows = lambda t: t.t().contiguous().to(torch.long)  # noqa: E731
    return {
        "train": {"edge": as_rows(split.train_pos)},
        "valid": {"edge": as_rows(split.val_pos), "edge_neg": as_rows(split.val_neg)},
        "test": {"edge": as_rows(split.test_pos), "edge_neg": as_rows(split.test_neg)},
    }
