r"""A link run end to end on a large synthetic graph, as a user runs it: each stage a ``g2m`` command.

The graph (a CSBM of ogbn-products' width, :func:`g2m.data.csbm.products_like_graph`, with fewer
and better separated classes than products so that its links can be learned from features) is
written as a graph file, then

1. ``g2m teacher --task link --graph FILE``: the GNN teacher trained and cached;
2. ``g2m run --task link --graph FILE --methods mlp``: the MLP student (the cached teacher read);
3. ``g2m run --task link --graph FILE --methods llp``: LLP, distilled from the same teacher;

each in its own process, whose wall time and peak resident set size (``wait4``'s ``ru_maxrss``: that
process alone) are recorded with the scores it printed or wrote. The teacher's cache lives in the
work folder, so that a run never reads an older teacher.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lab._env import worker_env

STAGES = ("graph", "teacher", "mlp", "llp")
COLUMNS = ("stage", "nodes", "edges", "epochs", "seconds", "seconds_per_epoch", "peak_rss_gib", "hits@20", "rocauc")


@dataclass(frozen=True)
class LinkE2EConfig:
    nodes: int = 200_000
    degree: float = 50.0  # directed edges per node: 200k nodes -> 10M directed, 5M undirected
    num_classes: int = 10
    feature_signal: float = 2.0
    homophily: float = 0.9
    epochs: int = 2
    threads: int = 1
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.nodes < 100 or self.epochs < 1 or self.threads < 1 or self.degree <= 0:
            raise ValueError("nodes must be at least 100, epochs and threads at least 1, degree positive")


def write_graph(cfg: LinkE2EConfig, path: Path) -> dict[str, Any]:
    """The synthetic graph as a ``.pt`` graph file (node masks: a random half / quarter / quarter,
    which the link split does not read)."""
    import torch
    from torch_geometric.data import Data

    from g2m.data.csbm import products_like_graph
    from g2m.files import atomic_write_bytes

    graph = products_like_graph(
        cfg.nodes,
        cfg.seed,
        avg_degree=cfg.degree,
        num_classes=cfg.num_classes,
        feature_signal=cfg.feature_signal,
        homophily=cfg.homophily,
    )
    n = graph.num_nodes
    order = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed))
    bounds = {"train_mask": (0, n // 2), "val_mask": (n // 2, 3 * n // 4), "test_mask": (3 * n // 4, n)}
    masks = {name: torch.zeros(n, dtype=torch.bool) for name in bounds}
    for name, (lo, hi) in bounds.items():
        masks[name][order[lo:hi]] = True

    buffer = io.BytesIO()
    torch.save(Data(x=graph.x, y=graph.y, edge_index=graph.edge_index, **masks), buffer)
    atomic_write_bytes(path, buffer.getvalue())
    return {"nodes": n, "edges": int(graph.edge_index.size(1))}


def _stage(name: str, argv: list[str], env: dict[str, str]) -> tuple[dict[str, Any], str]:
    """Run one stage; its wall seconds, peak RSS and stdout (stderr passes through: progress)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        killed = " (killed: out of memory?)" if proc.returncode < 0 else ""
        raise RuntimeError(f"stage {name} exited {proc.returncode}{killed}: {' '.join(argv)}")
    return {"stage": name, "seconds": seconds, "peak_rss_gib": usage.ru_maxrss / 2**20}, stdout


def run_link_e2e(cfg: LinkE2EConfig, work: Path) -> dict[str, Any]:
    """Every stage in order, each in a fresh process; the bench record."""
    work.mkdir(parents=True, exist_ok=True)
    graph_file = work / f"synthetic-{cfg.nodes}.pt"
    env = {**worker_env(), "G2M_CACHE_DIR": str(work / "cache"), "OMP_NUM_THREADS": str(cfg.threads)}
    g2m = [sys.executable, "-m", "g2m"]
    e, t = str(cfg.epochs), str(cfg.threads)
    rows: list[dict[str, Any]] = []

    row, out = _stage(
        "graph", [sys.executable, "-m", "lab.link_e2e", "write", json.dumps(asdict(cfg)), str(graph_file)], env
    )
    shape = json.loads(out.strip().splitlines()[-1])
    rows.append({**row, **shape})

    teacher_argv = ["--task", "link", "--graph", str(graph_file), "--threads", t, "--device", cfg.device]
    row, out = _stage("teacher", [*g2m, "teacher", *teacher_argv, "--epochs", e, "--patience", e], env)
    printed = json.loads(out[out.index("{") :])
    meta = json.loads((Path(printed["cache"]) / "meta.json").read_text())
    rows.append(
        {
            **row,
            **shape,
            "epochs": meta["epochs_run"],
            "seconds_per_epoch": meta["seconds_per_epoch"],
            **{k: printed["scores"][k] for k in ("hits@20", "rocauc")},
        }
    )
    for method in ("mlp", "llp"):
        run_dir = work / method
        argv = [*g2m, "run", *teacher_argv, "--methods", method, "--seeds", "1", "--out", str(run_dir)]
        argv += ["--teacher-epochs", e, "--teacher-patience", e, "--student-epochs", e, "--student-patience", e]
        row, _ = _stage(method, argv, env)
        result = json.loads((run_dir / "results.json").read_text())
        teacher_row, student = result["runs"][0], result["runs"][1]
        if not teacher_row.get("cached"):
            raise RuntimeError(f"stage {method} trained its own teacher instead of reading the cached one")
        rows.append(
            {
                **row,
                **shape,
                "epochs": student["epochs_run"],
                "seconds_per_epoch": student["seconds_per_epoch"],
                **{k: student[k] for k in ("hits@20", "rocauc")},
            }
        )
    return {"config": asdict(cfg), "rows": rows}


def link_e2e_summary(result: dict[str, Any]) -> str:
    rows = {r["stage"]: r for r in result["rows"]}
    total = sum(r["seconds"] for r in result["rows"])
    peak = max(r["peak_rss_gib"] for r in result["rows"])
    first = result["rows"][0]
    return (
        f"{first['nodes']:,} nodes, {first['edges']:,} directed edges, {result['config']['epochs']} epochs per "
        f"model, {result['config']['threads']} thread(s): {total / 60:.1f} min in all, highest peak "
        f"{peak:.2f} GiB; test ROC-AUC teacher {rows['teacher']['rocauc']:.3f}, MLP {rows['mlp']['rocauc']:.3f}, "
        f"LLP {rows['llp']['rocauc']:.3f}"
    )


if __name__ == "__main__":  # the graph stage: python -m lab.link_e2e write CONFIG_JSON PATH
    if sys.argv[1:2] != ["write"] or len(sys.argv) != 4:
        raise SystemExit("usage: python -m lab.link_e2e write CONFIG_JSON PATH")
    print(json.dumps(write_graph(LinkE2EConfig(**json.loads(sys.argv[2])), Path(sys.argv[3]))))
