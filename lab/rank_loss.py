"""LLP rank loss: the vectorised implementation against a naive pair-list one.

The naive version is what a direct transcription of the paper does: loop over
anchors, build the list of context pairs with ``itertools.combinations``, keep
those whose teacher gap exceeds the margin, then evaluate the hinge on them.
"""

from __future__ import annotations

import itertools
import time

import torch
from torch import Tensor

from g2m.losses.link import llp_rank_loss


def naive_rank_loss(s: Tensor, t: Tensor, group: Tensor, margin: float) -> Tensor:
    pairs, signs = [], []
    members: dict[int, list[int]] = {}
    for m, g in enumerate(group.tolist()):
        members.setdefault(g, []).append(m)
    t_list = t.tolist()
    for idx in members.values():
        for i, j in itertools.combinations(idx, 2):
            dt = t_list[i] - t_list[j]
            if abs(dt) > margin:
                pairs.append((i, j))
                signs.append(1.0 if dt > 0 else -1.0)
    p = torch.tensor(pairs, device="cpu")
    r = torch.tensor(signs, dtype=s.dtype, device="cpu")
    return torch.relu(-r * (s[p[:, 0]] - s[p[:, 1]]) + margin).mean()


def _time(fn, s: Tensor, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        x = s.clone().requires_grad_()
        start = time.perf_counter()
        fn(x).backward()
        best = min(best, time.perf_counter() - start)
    return best


def bench_rank_loss(
    anchors: int = 1024, contexts: int = 32, margin: float = 0.1, repeats: int = 3, seed: int = 0
) -> dict[str, float]:
    """Best-of-``repeats`` forward+backward seconds of both versions, and their ratio."""
    gen = torch.Generator(device="cpu").manual_seed(seed)
    group = torch.arange(anchors, device="cpu").repeat_interleave(contexts)
    t = torch.randn(group.numel(), generator=gen, device="cpu")
    s = torch.randn(group.numel(), generator=gen, device="cpu")
    fast = lambda x: llp_rank_loss(x, t, group, margin, anchors)  # noqa: E731
    slow = lambda x: naive_rank_loss(x, t, group, margin)  # noqa: E731
    torch.testing.assert_close(fast(s), slow(s))
    t_fast, t_slow = _time(fast, s, repeats), _time(slow, s, repeats)
    return {
        "anchors": anchors,
        "contexts": contexts,
        "pairs": anchors * contexts * (contexts - 1) // 2,
        "vectorised_s": t_fast,
        "naive_s": t_slow,
        "speedup": t_slow / t_fast,
        "threads": torch.get_num_threads(),
    }
