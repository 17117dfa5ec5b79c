r"""Time and peak memory of distillation and inference as the graph grows.

For each graph size a products-like CSBM graph is generated once and saved; every
measurement then runs in a fresh Python process that loads it, so the peak
resident set size (``ru_maxrss``) belongs to that measurement alone. Measured:

* one full-batch distillation epoch (student forward, loss, backward, Adam step)
  for ``kd`` (GLNN), ``lfd``, ``hfd`` and ``ffg2m`` (label term on 10% of nodes,
  :math:`\lambda = 0.5`; edge losses chunked by ``chunk_size`` edges);
* one ``llp`` step: contexts for ``llp_anchors`` random anchors (4 walks x 3 hops
  nearby + as many random), the MLP encoder on the anchors and contexts only, the
  MLP scorer, the rank and distribution terms, backward and step;
* inference on every node: the teacher (2-layer SAGE, sparse CSR adjacency) and
  the student MLP.

Teacher logits/embeddings are random: the cost does not depend on their values.
Memory is reported as the process' peak RSS during the measured call (the
kernel's peak mark is reset just before it; ``peak_reset`` says whether that
worked, else the peak is the lifetime peak, an upper bound) and as its growth
over the RSS once the inputs are loaded (on CUDA: peak allocated device memory).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from g2m.evaluation.machine import peak_rss_mib, reset_peak_rss, rss_mib
from lab._env import worker_env

SCALE_TASKS = ("kd", "lfd", "hfd", "ffg2m", "llp", "teacher_inference", "student_inference")
_NODE_METHOD = {"kd": "glnn", "lfd": "lfd", "hfd": "hfd", "ffg2m": "ffg2m"}


@dataclass(frozen=True)
class ScaleConfig:
    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000, 2_500_000)
    tasks: tuple[str, ...] = SCALE_TASKS
    avg_degree: float = 25.0
    hidden: int = 256
    student_layers: int = 3
    chunk_size: int = 500_000
    llp_anchors: int = 4096
    edge_doubling: int | None = 1_000_000  # also run ffg2m at 2x the degree on this size
    threads: int | None = None
    device: str = "cpu"
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.tasks) - set(SCALE_TASKS)
        if unknown:
            raise ValueError(f"unknown scale task(s) {sorted(unknown)}; choose from {SCALE_TASKS}")
        if not self.sizes or min(self.sizes) < 100:
            raise ValueError("sizes must be given and each at least 100 nodes")
        if self.chunk_size < 1 or self.llp_anchors < 1:
            raise ValueError("chunk_size and llp_anchors must be positive")


def measure(graph_file: str, task: str, cfg: ScaleConfig) -> dict[str, Any]:
    """One measurement in this process (run by :func:`run_scale` in a fresh one)."""
    from g2m.data.sampling import sample_contexts, to_csr
    from g2m.device import resolve_device, set_threads
    from g2m.evaluation.machine import synchronize
    from g2m.losses.link import llp_dist_loss, llp_rank_loss
    from g2m.losses.objectives import node_objective
    from g2m.students.mlp import MLP
    from g2m.teachers.link import LinkScorer
    from g2m.teachers.models import GNN

    set_threads(cfg.threads)
    device = resolve_device(cfg.device)
    data = torch.load(graph_file, mmap=True)
    x, y, edge_index = data["x"].to(device), data["y"].to(device), data["edge_index"]
    n, c = x.size(0), int(y.max()) + 1
    gen = torch.Generator(device="cpu").manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    if task in _NODE_METHOD:
        student = MLP(x.size(1), c, cfg.hidden, cfg.student_layers, dropout=0.5).to(device)
        opt = torch.optim.Adam(student.parameters(), lr=0.01)
        teacher_logits = torch.randn(n, c, generator=gen, device="cpu").to(device)
        train_idx = torch.randperm(n, generator=gen, device="cpu")[: n // 10].to(device)
        hfd_edges = edge_index[:, edge_index[0] < edge_index[1]].to(device)
        edges = edge_index.to(device)

        def run() -> None:
            opt.zero_grad(set_to_none=True)
            loss, _ = node_objective(
                _NODE_METHOD[task],
                student(x),
                teacher_logits,
                y,
                train_idx,
                edges,
                lam=0.5,
                tau=1.0,
                chunk_size=cfg.chunk_size,
                hfd_edge_index=hfd_edges,
            )
            loss.backward()
            opt.step()
    elif task == "llp":
        encoder = MLP(x.size(1), cfg.hidden, cfg.hidden, cfg.student_layers, dropout=0.5).to(device)
        scorer, t_scorer = LinkScorer("mlp", cfg.hidden).to(device), LinkScorer("mlp", cfg.hidden).to(device)
        opt = torch.optim.Adam([*encoder.parameters(), *scorer.parameters()], lr=0.005)
        t_h = torch.randn(n, cfg.hidden, generator=gen, device="cpu").to(device)
        csr = to_csr(edge_index, n)

        def run() -> None:
            opt.zero_grad(set_to_none=True)
            anchors = torch.randperm(n, generator=gen, device="cpu")[: cfg.llp_anchors]
            ctx = sample_contexts(csr, anchors, 4, 3, 1.0, gen)
            # encode only the nodes the step touches, not the whole graph
            nodes, local = torch.cat([ctx.anchor, ctx.context]).unique(return_inverse=True)
            local, group = local.to(device), ctx.group.to(device)
            h = encoder(x[nodes.to(device)])
            m = ctx.anchor.numel()
            s = scorer(h[local[:m]], h[local[m:]])
            with torch.no_grad():
                t = t_scorer(t_h[ctx.anchor.to(device)], t_h[ctx.context.to(device)])
            loss = llp_rank_loss(s, t, group, 0.1, ctx.num_groups) + llp_dist_loss(s, t, group, ctx.num_groups)
            loss.backward()
            opt.step()
    elif task == "teacher_inference":
        teacher = GNN("sage", x.size(1), c, cfg.hidden, 2, dropout=0.0).to(device).eval()
        csr = to_csr(edge_index, n)
        adj_t = csr.to_sparse().to(device)

        def run() -> None:
            with torch.inference_mode():
                teacher(x, adj_t)
    elif task == "student_inference":
        student = MLP(x.size(1), c, cfg.hidden, cfg.student_layers, dropout=0.0).to(device).eval()

        def run() -> None:
            with torch.inference_mode():
                student(x)
    else:
        raise ValueError(f"unknown scale task {task!r}")

    synchronize(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        base_dev = torch.cuda.memory_allocated(device)
    peak_reset = reset_peak_rss()
    base = rss_mib()
    start = time.perf_counter()
    run()
    synchronize(device)
    seconds = time.perf_counter() - start
    peak = peak_rss_mib()
    out = {
        "task": task,
        "nodes": n,
        "edges": int(edge_index.size(1)),
        "seconds": seconds,
        "inputs_rss_mib": base,
        "peak_rss_mib": peak,
        "peak_extra_mib": max(peak - base, 0.0),
        "peak_reset": peak_reset,
    }
    if device.type == "cuda":
        out["peak_device_extra_mib"] = (torch.cuda.max_memory_allocated(device) - base_dev) / 2**20
    return out


def _write_graph(path: Path, num_nodes: int, cfg: ScaleConfig, avg_degree: float) -> int:
    from g2m.data.csbm import products_like_graph

    g = products_like_graph(num_nodes, cfg.seed, avg_degree=avg_degree)
    torch.save({"x": g.x, "y": g.y, "edge_index": g.edge_index}, path)
    return g.num_edges


def _run_worker(graph_file: Path, task: str, cfg: ScaleConfig) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "lab.scale", str(graph_file), task, json.dumps(asdict(cfg))],
        capture_output=True,
        text=True,
        env=worker_env(),
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-5:]
        killed = " (killed: out of memory?)" if proc.returncode < 0 else ""
        return {"task": task, "error": f"exit {proc.returncode}{killed}: " + " | ".join(tail)}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_scale(cfg: ScaleConfig, progress: bool = True) -> dict[str, Any]:
    """Every task at every size (plus the edge-doubling run), each in its own process.
    A measurement that fails (for example out of memory) is recorded with its error."""
    from tqdm.auto import tqdm

    from g2m.device import resolve_device, set_threads
    from g2m.evaluation.machine import machine_info

    plan = [(n, cfg.avg_degree, t) for n in cfg.sizes for t in cfg.tasks]
    if cfg.edge_doubling:
        plan += [
            (cfg.edge_doubling, d, "ffg2m")
            for d in (cfg.avg_degree, 2 * cfg.avg_degree)
            if (cfg.edge_doubling, d, "ffg2m") not in plan
        ]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="g2m-scale-") as tmp:
        files: dict[tuple[int, float], tuple[Path, int]] = {}
        for n, degree, task in tqdm(plan, desc="scale", disable=not progress):
            if (n, degree) not in files:
                path = Path(tmp) / f"graph-{n}-{degree}.pt"
                files[(n, degree)] = (path, _write_graph(path, n, cfg, degree))
            row = _run_worker(files[(n, degree)][0], task, cfg)
            rows.append({"nodes": n, "avg_degree": degree, "edges": files[(n, degree)][1], **row})
    return {
        "machine": {**machine_info(resolve_device(cfg.device)), "torch_threads": set_threads(cfg.threads)},
        "config": asdict(cfg),
        "rows": rows,
        "edge_doubling": edge_doubling_check(rows, cfg),
    }


def edge_doubling_check(rows: list[dict[str, Any]], cfg: ScaleConfig) -> dict[str, Any] | None:
    """FF-G2M peak memory at 2x the edges over the base degree (same node count)."""
    if not cfg.edge_doubling:
        return None
    pick = {
        r["avg_degree"]: r
        for r in rows
        if r["nodes"] == cfg.edge_doubling and r["task"] == "ffg2m" and "error" not in r
    }
    base, double = pick.get(cfg.avg_degree), pick.get(2 * cfg.avg_degree)
    if base is None or double is None:
        return None
    return {
        "nodes": cfg.edge_doubling,
        "edges": [base["edges"], double["edges"]],
        "peak_rss_ratio": double["peak_rss_mib"] / base["peak_rss_mib"],
        "peak_extra_ratio": double["peak_extra_mib"] / max(base["peak_extra_mib"], 1e-9),
        "seconds_ratio": double["seconds"] / base["seconds"],
    }


if __name__ == "__main__":
    _file, _task, _cfg = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    _cfg = {k: tuple(v) if isinstance(v, list) else v for k, v in _cfg.items()}
    print(json.dumps(measure(_file, _task, ScaleConfig(**_cfg))))
