"""Peak memory of the edge-wise losses (forward + backward), chunked or not.

Each measurement runs in a fresh Python process whose peak resident set size
(``VmHWM``, reset once the inputs exist) belongs to that measurement alone; the
reported figure is the growth of the peak over the resident size at that point.
"""

from __future__ import annotations

import json
import subprocess
import sys

_SCRIPT = r"""
import json, sys, time, torch
from g2m.evaluation.machine import peak_rss_mib, reset_peak_rss, rss_mib
from g2m.losses import hfd_loss, lfd_loss
n, e, c, chunk, loss = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
g = torch.Generator().manual_seed(0)
s = torch.randn(n, c, generator=g).requires_grad_()
t = torch.randn(n, c, generator=g)
ei = torch.randint(0, n, (2, e), generator=g)
reset_peak_rss()
base = rss_mib()
start = time.perf_counter()
fn = lfd_loss if loss == "lfd" else hfd_loss
fn(s, t, ei, 1.0, chunk if chunk > 0 else None).backward()
print(json.dumps({"loss": loss, "nodes": n, "edges": e, "classes": c, "chunk_size": chunk or None,
                  "seconds": time.perf_counter() - start, "peak_extra_mib": peak_rss_mib() - base,
                  "edge_class_tensor_mib": e * c * 4 / 2**20}))
"""


def edge_loss_memory(
    num_nodes: int, num_edges: int, num_classes: int, chunk_size: int | None, loss: str = "hfd"
) -> dict:
    if loss not in ("lfd", "hfd"):
        raise ValueError(f"loss must be lfd or hfd, got {loss!r}")
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(num_nodes), str(num_edges), str(num_classes), str(chunk_size or 0), loss],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"edge-memory measurement failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
