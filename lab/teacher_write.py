"""The data-parallel teacher's last stage on a products-like graph: sharded inference over every
node and the cache write, gathered (every rank all-gathers the logits and the hidden layer, rank 0
writes ``tensors.pt``) against by rows (each rank writes its own rows,
:meth:`g2m.cache.TeacherCache.save_row_shards`).

The teacher is the products-like preset's SAGE (2 x 256, batch norm), untrained: the stage's
cost does not depend on the weights. Run under ``torchrun --standalone --nproc-per-node 2``;
rank 0 prints one JSON line: the graph's size, the seconds of inference plus write, and every
rank's peak resident memory after the graph was built and after the stage (``ru_maxrss``), for
``--write gathered`` or ``--write rows`` (one per process tree: the peak carries over within it).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--write", choices=("gathered", "rows"), default="rows")
    args = parser.parse_args()

    from g2m import distributed as dist
    from g2m.cache import CacheKey, TeacherCache
    from g2m.config import teacher_config
    from g2m.data import get_spec
    from g2m.data.csbm import products_like_graph
    from g2m.evaluation.machine import peak_rss_mib
    from g2m.ops.sparse import sparse_features
    from g2m.teachers.inference import ShardedInference
    from g2m.teachers.models import build_teacher

    torch.set_num_threads(1)
    dist.init_from_env(torch.device("cpu"))
    graph = dist.main_first(lambda: products_like_graph(args.nodes, 0))
    cfg = teacher_config(get_spec("products-like"), "sage")
    torch.manual_seed(0)
    model = build_teacher("sage", graph.num_features, graph.num_classes, **cfg.model_kwargs())
    rss_graph = peak_rss_mib()
    folder = [tempfile.mkdtemp(prefix="g2m-write-") if dist.is_main() else None]
    if dist.is_distributed():
        torch.distributed.broadcast_object_list(folder, src=0)
    cache = TeacherCache(str(folder[0]))
    key = CacheKey("products-like", "node", "bench", "sage-bench", 0)
    dist.barrier()
    start = time.perf_counter()
    sharded = ShardedInference(model, sparse_features(graph.x), graph.edge_index)
    if args.write == "rows":
        logits, hidden = sharded(model, gather=False)
        assert hidden is not None
        cache.save_row_shards(key, {"logits": logits, "hidden": hidden}, graph.num_nodes, {})
    else:
        logits, hidden = sharded(model)
        assert hidden is not None
        if dist.is_main():
            cache.save(key, {"logits": logits, "hidden": hidden}, {})
        dist.barrier()
    seconds = time.perf_counter() - start
    peaks = dist.gather_rows(
        torch.tensor([[rss_graph, peak_rss_mib()]], dtype=torch.float64, device="cpu"), dist.world_size()
    )
    if dist.is_main():
        print(
            json.dumps(
                {
                    "nodes": graph.num_nodes,
                    "edges": graph.edge_index.size(1),
                    "write": args.write,
                    "processes": dist.world_size(),
                    "seconds": round(seconds, 1),
                    "peak_rss_mib_after_graph": [round(v) for v in peaks[:, 0].tolist()],
                    "peak_rss_mib_after_write": [round(v) for v in peaks[:, 1].tolist()],
                }
            )
        )
        import shutil

        shutil.rmtree(str(folder[0]), ignore_errors=True)
    dist.shutdown()


if __name__ == "__main__":
    main()
