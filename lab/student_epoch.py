"""One mini-batch student epoch per method on a products-like graph: the cost of distilling at scale.

Every method trains the same student (``layers`` x ``hidden``, batch norm, dropout 0.5) for one
epoch of ``batch_size``-node batches over every node, from the same teacher logits (the labels'
one-hot plus noise: the cost does not depend on the teacher's quality), and the wall time of that
epoch (its validation pass included) is reported. Uses only ``distill_node_student`` and
``StudentConfig``'s long-standing fields, so the file also runs against older g2m checkouts:
``PYTHONPATH=<old checkout> python lab/student_epoch.py --nodes 200000`` measures
"before" with the same code, and ``torchrun --standalone --nproc-per-node 2
lab/student_epoch.py ...`` the same epoch data-parallel.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from typing import Any

import torch

METHODS = ("mlp", "glnn", "lfd", "hfd", "ffg2m")
#: the teacher row (``--methods teacher``): the products-like preset's SAGE teacher (2 x 256, batch
#: norm, fan-outs 15, 10, batches of 1,024 training nodes of OGB's 8 % share), one epoch with its
#: validation by sharded inference over every node
TEACHER = "teacher"


def student_epoch_times(
    num_nodes: int,
    methods: tuple[str, ...] = METHODS,
    batch_size: int = 4096,
    hidden: int = 256,
    layers: int = 3,
    seed: int = 0,
    **device: Any,
) -> dict[str, Any]:
    """Seconds of one student epoch per method (and the graph's size); ``device`` passes through to
    ``distill_node_student`` where it accepts one."""
    from g2m.config import StudentConfig
    from g2m.data.csbm import products_like_graph
    from g2m.data.splits import make_node_split
    from g2m.training.node_student import distill_node_student

    start = time.perf_counter()
    graph = products_like_graph(num_nodes, seed)
    split = make_node_split(graph, "random", "transductive", seed)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    teacher = 3.0 * torch.nn.functional.one_hot(graph.require_labels(), graph.num_classes).float() + torch.randn(
        graph.num_nodes, graph.num_classes, generator=gen, device="cpu"
    )
    rows = []
    if TEACHER in methods:
        rows.append({"method": "teacher (sage)", "seconds": teacher_epoch_time(num_nodes, seed, **device)})
    for method in (m for m in methods if m != TEACHER):
        cfg = StudentConfig(
            method=method,
            hidden=hidden,
            num_layers=layers,
            dropout=0.5,
            norm="batch",
            batch_size=batch_size,
            epochs=1,
            patience=1,
        )
        out = distill_node_student(graph, split, teacher, cfg, seed, progress=False, **device)
        rows.append({"method": method, "seconds": out.fit.seconds_per_epoch})
    return {
        "nodes": graph.num_nodes,
        "edges": graph.num_edges,
        "batch_size": batch_size,
        "hidden": hidden,
        "layers": layers,
        "torch_threads": torch.get_num_threads(),
        "rows": rows,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "total_seconds": time.perf_counter() - start,
    }


def teacher_epoch_time(num_nodes: int, seed: int = 0, **device: Any) -> float:
    """Seconds of one epoch of the products-like preset's mini-batch SAGE teacher (training on
    the fixed split's training nodes, validation over every node), data-parallel under torchrun."""
    from dataclasses import replace

    from g2m.config import TeacherConfig
    from g2m.data.csbm import products_like_graph
    from g2m.data.loaders import fraction_masks
    from g2m.data.splits import make_node_split
    from g2m.training.node_teacher import train_node_teacher

    graph = products_like_graph(num_nodes, seed)
    graph = replace(graph, masks=fraction_masks(num_nodes, (0.08, 0.016), seed))
    split = make_node_split(graph, "fixed", "transductive", seed)
    cfg = TeacherConfig(
        model="sage",
        hidden=256,
        num_layers=2,
        dropout=0.5,
        lr=0.003,
        weight_decay=0.0,
        norm="batch",
        batch_size=1024,
        fanouts=(15, 10),
        epochs=1,
        patience=1,
    )
    return train_node_teacher(graph, split, cfg, seed, progress=False, **device).fit.seconds_per_epoch


#: the columns of ``python -m lab student-epoch``'s table
COLUMNS = ("method", "seconds")


def epoch_summary(result: dict[str, Any]) -> str:
    """The line under the table: the graph, the student, the batches, the processes, the peak RSS."""
    return (
        f"products-like, {result['nodes']:,} nodes, {result['edges']:,} edges; student {result['layers']} x "
        f"{result['hidden']}, batches of {result['batch_size']:,}; one epoch each, {result.get('processes', 1)} "
        f"process(es); peak RSS {result['peak_rss_mib'] / 1024:.1f} GiB (rank 0)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", help="Also write student-epoch.{json,csv,md} here (`g2m report --bench`).")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from g2m import distributed as dist  # under torchrun: every rank trains its part of each batch

    dist.init_from_env(torch.device("cpu"))
    result = student_epoch_times(args.nodes, tuple(args.methods.split(",")), args.batch_size, args.hidden, args.layers)
    result["processes"] = dist.world_size()
    if dist.is_main():
        print(json.dumps(result, indent=2))
        if args.out:
            from g2m.benchmarks.outputs import save_bench

            save_bench(args.out, "student-epoch", result, COLUMNS, epoch_summary(result), runner="python -m lab")
    dist.shutdown()


if __name__ == "__main__":
    main()
