"""A data-parallel student, run by tests/test_distributed.py under torchrun: rank 0 saves its logits."""

import sys

import torch

from g2m import distributed as dist
from g2m.training.node_student import distill_node_student


def student(method: str, batch_size: int):
    """The graph, split, teacher logits and config both the test and the workers use."""
    from dataclasses import replace

    from g2m.config import student_config
    from g2m.data.csbm import csbm_tensors
    from g2m.data.graph import make_graph
    from g2m.data.splits import make_node_split

    x, y, e = csbm_tensors(num_nodes=500, num_classes=4, avg_degree=6, homophily=0.8, num_features=16, seed=4)
    graph = make_graph("d", x, y, e)
    split = make_node_split(graph, "random", "transductive", 0)
    gen = torch.Generator(device="cpu").manual_seed(1)
    teacher = 2.0 * torch.nn.functional.one_hot(y, 4).float() + torch.randn(500, 4, generator=gen, device="cpu")
    cfg = replace(
        student_config(None, method, "gcn"), hidden=32, dropout=0.0, epochs=8, patience=8, batch_size=batch_size
    )
    return graph, split, teacher, cfg


def main() -> None:
    out, method, batch_size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch.set_num_threads(1)
    dist.init_from_env(torch.device("cpu"))
    graph, split, teacher, cfg = student(method, batch_size)
    result = distill_node_student(graph, split, teacher, cfg, 0, progress=False)
    if dist.is_main():
        torch.save({"logits": result.logits, "history": result.fit.history, "world": dist.world_size()}, out)
    dist.shutdown()


if __name__ == "__main__":
    main()
