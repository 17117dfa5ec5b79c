"""A data-parallel mini-batch teacher, run by tests/test_distributed.py under torchrun: rank 0
saves its logits, hidden layer and validation history; every rank checks sharded inference; with
a cache folder (third argument), the ranks write the sage teacher's entry, each its own rows."""

import sys

import torch

from g2m import distributed as dist
from g2m.teachers.inference import sharded_inference
from g2m.training.node_teacher import train_node_teacher


def teacher(kind: str):
    """The graph, split and config both the test and the workers use (full fan-outs and no
    dropout, so that one process and two draw the same batches and compute the same steps)."""
    from dataclasses import replace

    from g2m.config import teacher_config
    from g2m.data.csbm import csbm_tensors
    from g2m.data.graph import make_graph
    from g2m.data.splits import make_node_split

    # 401 nodes: the two ranks own node ranges of unequal length
    x, y, e = csbm_tensors(num_nodes=401, num_classes=4, avg_degree=8, homophily=0.8, num_features=16, seed=3)
    graph = make_graph("d", x, y, e)
    split = make_node_split(graph, "random", "transductive", 0)
    cfg = replace(
        teacher_config(None, kind),
        hidden=32,
        num_layers=2,
        dropout=0.0,
        epochs=6,
        patience=6,
        batch_size=25,
        fanouts=(-1, -1),
        norm="none",
    )
    return graph, split, cfg


def main() -> None:
    out, kinds = sys.argv[1], sys.argv[2].split(",")
    torch.set_num_threads(1)
    dist.init_from_env(torch.device("cpu"))
    saved = {"world": dist.world_size()}
    for kind in kinds:
        graph, split, cfg = teacher(kind)
        result = train_node_teacher(graph, split, cfg, 0, progress=False, device="cpu")
        with torch.no_grad():
            whole = result.model(graph.x, graph.edge_index, return_hidden=True)
        saved[kind] = {
            "logits": result.logits,
            "hidden": result.hidden,
            "history": result.fit.history,
            "sharded": sharded_inference(result.model, graph.x, graph.edge_index),
            "whole": whole,
        }
    if len(sys.argv) > 3:  # a cache: the teacher's entry written by every rank, its rows each
        from g2m.cache import TeacherCache
        from g2m.experiments.teachers import get_node_teacher

        graph, split, cfg = teacher("sage")
        knowledge, scores, _ = get_node_teacher(graph, split, cfg, 0, "accuracy", TeacherCache(sys.argv[3]), False)
        saved["cached"] = {"logits": knowledge.logits.clone(), "hidden": knowledge.hidden.clone(), "scores": scores}
    if dist.is_main():
        torch.save(saved, out)
    dist.shutdown()


if __name__ == "__main__":
    main()
