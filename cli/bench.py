"""`g2m bench ...`: long accuracy and speed benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from g2m.cli.common import CacheDir, DataRoot, DeviceOpt, Quiet, Threads, compute_on
from g2m.methods import DEVICE_HELP

bench_app = typer.Typer(help="Benchmarks (long runs; not part of the tests).", no_args_is_help=True)


@bench_app.command("node-table")
def node_table(
    ctx: typer.Context,
    protocol: Annotated[
        str,
        typer.Option(
            help="glnn (CPF split: Cora/CiteSeer SAGE + production, Photo/Computers/CS/Physics GCN+SAGE) | "
            "heterophily (12 heterophilous graphs, SAGE) | public (Cora/CiteSeer public split)."
        ),
    ] = "glnn",
    seeds: Annotated[int, typer.Option(help="Seeds per cell.")] = 10,
    first_seed: Annotated[int, typer.Option(help="Run seeds K..K+N-1 (split a table across processes).")] = 0,
    cells: Annotated[
        Optional[str], typer.Option(help="Only these cells, e.g. cora/sage/transductive,citeseer/sage/inductive.")
    ] = None,
    methods: Annotated[Optional[str], typer.Option(help="Only these methods, comma-separated.")] = None,
    merge: Annotated[
        Optional[list[Path]],
        typer.Option(
            help="Instead of running: join the --out folders of parts run by seed or method (repeat the option)."
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Output directory: node_table.md/.json and one folder per cell.")] = Path(
        "results/node-table"
    ),
    data_root: DataRoot = None,
    cache_dir: CacheDir = None,
    quiet: Quiet = False,
    device: DeviceOpt = "auto",
    threads: Threads = None,
) -> None:
    """A node-distillation table with the literature's checks (GLNN Table 1, FF-G2M abstract)."""
    dev = compute_on(device, threads)
    from g2m.benchmarks.node_table import merge_node_tables, parse_cells, run_node_table
    from g2m.cli.common import check_output_dir, hold_output

    check_output_dir(out)
    hold_output(ctx, out)
    if merge:
        md = merge_node_tables(protocol, [str(p) for p in merge], out)
    else:
        md = run_node_table(
            protocol,
            out,
            str(data_root) if data_root else None,
            str(cache_dir) if cache_dir else None,
            seeds,
            first_seed,
            parse_cells(cells) if cells else None,
            [m.strip() for m in methods.split(",")] if methods else None,
            progress=not quiet,
            device=dev,
        )
    typer.echo(md)
    typer.echo(f"wrote {out / 'node_table.md'} and {out / 'node_table.json'}")


@bench_app.command("rank-loss")
def rank_loss(
    anchors: Annotated[int, typer.Option(help="Anchors.")] = 1024,
    contexts: Annotated[int, typer.Option(help="Context nodes per anchor.")] = 32,
    repeats: Annotated[int, typer.Option(help="Timed repeats (best is kept).")] = 3,
    threads: Threads = None,
    out: Annotated[Path, typer.Option(help="Output directory: rank-loss.{json,csv,md}.")] = Path("results/rank-loss"),
) -> None:
    """LLP rank loss: vectorised vs a naive pair-list implementation (forward + backward)."""
    from g2m.benchmarks.rank_loss import bench_rank_loss
    from g2m.cli.common import check_output_dir
    from g2m.device import set_threads

    check_output_dir(out)
    set_threads(threads)
    row = bench_rank_loss(anchors, contexts, repeats=repeats)
    _report(out, "rank-loss", {"rows": [row]}, None, list(row), None)


@bench_app.command("loss-call")
def loss_call(
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="The graph whose edges the losses run on.")] = "cora",
    repeats: Annotated[int, typer.Option(help="Timed repeats (best is kept).")] = 5,
    calls: Annotated[int, typer.Option(help="Calls per timed repeat.")] = 100,
    data_root: DataRoot = None,
    device: DeviceOpt = "auto",
    threads: Threads = None,
    out: Annotated[Path, typer.Option(help="Output directory: loss-call.{json,csv,md}.")] = Path("results/loss-call"),
) -> None:
    """g2m.nn's loss modules in your own loop: milliseconds per forward + backward, against KDLoss."""
    dev = compute_on(device, threads)
    from g2m.benchmarks.loss_call import bench_loss_call
    from g2m.cli.common import check_output_dir
    from g2m.data.registry import load_dataset

    check_output_dir(out)
    graph = load_dataset(dataset, str(data_root) if data_root else None)
    rows = bench_loss_call(graph.edge_index.to(dev), graph.num_nodes, graph.num_classes, repeats, calls)
    for row in rows:
        row["dataset"] = dataset
    _report(out, "loss-call", {"rows": rows}, None, list(rows[0]), None)


@bench_app.command("link-table")
def link_table(
    ctx: typer.Context,
    seeds: Annotated[int, typer.Option(help="Seeds per cell.")] = 5,
    split_seed: Annotated[
        int, typer.Option(help="One split for every seed (LLP's protocol); -1: a new split per seed.")
    ] = 0,
    teacher_seed: Annotated[
        int, typer.Option(help="One teacher for every seed (LLP's protocol); -1: a teacher per seed.")
    ] = 0,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("results/link-table"),
    data_root: DataRoot = None,
    cache_dir: CacheDir = None,
    quiet: Quiet = False,
    device: DeviceOpt = "auto",
    threads: Threads = None,
) -> None:
    """Cora and CiteSeer (SAGE teacher; transductive) and Cora production: all link methods."""
    dev = compute_on(device, threads)
    from g2m.benchmarks.link_table import run_link_table
    from g2m.cli.common import check_output_dir, hold_output

    check_output_dir(out)
    hold_output(ctx, out)
    md = run_link_table(
        str(data_root) if data_root else None,
        out,
        seeds,
        str(cache_dir) if cache_dir else None,
        progress=not quiet,
        split_seed=None if split_seed < 0 else split_seed,
        teacher_seed=None if teacher_seed < 0 else teacher_seed,
        device=dev,
    )
    typer.echo(md)
    typer.echo(f"wrote {out / 'link_table.md'} and {out / 'link_table.json'}")


@bench_app.command("edge-memory")
def edge_memory(
    nodes: Annotated[int, typer.Option(help="Nodes.")] = 1_000_000,
    edges: Annotated[int, typer.Option(help="Edges.")] = 10_000_000,
    classes: Annotated[int, typer.Option(help="Classes.")] = 50,
    chunk_size: Annotated[
        str, typer.Option(help="Edges per chunk (0: no chunking); several, comma-separated, give a row each.")
    ] = "1000000",
    loss: Annotated[str, typer.Option(help="lfd | hfd")] = "hfd",
    out: Annotated[Path, typer.Option(help="Output directory: edge-memory.{json,csv,md}.")] = Path(
        "results/edge-memory"
    ),
) -> None:
    """Peak extra memory and time of one edge-wise loss forward + backward on random logits
    (each chunk size in a fresh process)."""
    from g2m.benchmarks.edge_memory import edge_loss_memory
    from g2m.cli.common import check_output_dir

    chunks = _int_list(chunk_size, "chunk-size")
    if not chunks:
        raise typer.BadParameter("chunk-size: give at least one (0: no chunking)")
    check_output_dir(out)
    rows = [edge_loss_memory(nodes, edges, classes, c or None, loss) for c in chunks]
    _report(out, "edge-memory", {"rows": rows}, None, list(rows[0]), None)


def _names(text: str) -> tuple[str, ...]:
    """A comma-separated option as its non-empty, stripped items."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _int_list(text: str, name: str, allow_full: bool = False) -> tuple[int, ...]:
    """``"1,32,1024,full"`` -> ``(1, 32, 1024, 0)``; a clear error for anything else."""
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if allow_full and part == "full":
            out.append(0)
            continue
        try:
            out.append(int(part))
        except ValueError:
            raise typer.BadParameter(f"{name}: {part!r} is not an integer{' or full' if allow_full else ''}") from None
    return tuple(out)


@bench_app.command("latency")
def latency(
    nodes: Annotated[int, typer.Option(help="Nodes of the products-like synthetic graph.")] = 1_000_000,
    dataset: Annotated[Optional[str], typer.Option(help="Use a registered dataset instead.")] = None,
    student: Annotated[Optional[Path], typer.Option(help="A trained student (`g2m distill --out`).")] = None,
    batch_sizes: Annotated[str, typer.Option(help="Node batches; 'full' = every node.")] = "1,32,1024,full",
    pair_batch_sizes: Annotated[str, typer.Option(help="Link candidate-pair batches ('' to skip).")] = "1,32,1024",
    teacher: Annotated[str, typer.Option(help="Teacher GNN.")] = "sage",
    fanouts: Annotated[str, typer.Option(help="Teacher fan-out per layer.")] = "15,10",
    hidden: Annotated[int, typer.Option(help="Hidden width of teacher and student.")] = 256,
    student_layers: Annotated[int, typer.Option(help="Student MLP layers.")] = 3,
    khop: Annotated[bool, typer.Option(help="Also time the full k-hop neighbourhood.")] = True,
    samplers: Annotated[
        Optional[str],
        typer.Option(help="Neighbour samplers timed side by side: pyg,g2m (default: every one installed)."),
    ] = None,
    glnn_layers: Annotated[
        str, typer.Option(help="GLNN's 10-node row: SAGE depths against an MLP of the same depth ('' to skip).")
    ] = "2,3",
    position_dim: Annotated[
        int,
        typer.Option(
            help="Also time a position-feature student (NOSMOG) on unseen nodes: the neighbour-mean lookup "
            "of this many position features plus the MLP (0: skip)."
        ),
    ] = 0,
    repeats: Annotated[int, typer.Option(help="Timed calls per path and batch size (at most).")] = 50,
    budget: Annotated[float, typer.Option(help="Seconds per path and batch size before stopping early.")] = 30.0,
    warmup: Annotated[int, typer.Option(help="Untimed calls first.")] = 5,
    threads: Threads = None,
    device: Annotated[str, typer.Option(help="Where to time: " + DEVICE_HELP)] = "cpu",
    seed: Annotated[int, typer.Option(help="Graph, model and batch seed.")] = 0,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("results/latency"),
    data_root: DataRoot = None,
    quiet: Quiet = False,
) -> None:
    """Student vs teacher inference latency (p50/p95/p99, nodes/s) per batch size; a line on stderr
    per timed path as it finishes."""
    from g2m.benchmarks.latency import LatencyConfig, headline, run_latency
    from g2m.benchmarks.outputs import latency_figure
    from g2m.cli.common import check_output_dir

    device = str(compute_on(device, None))  # a bad --device: one error line before any graph is built
    check_output_dir(out)
    fan = _int_list(fanouts, "fanouts")
    cfg = LatencyConfig(
        batch_sizes=_int_list(batch_sizes, "batch-sizes", allow_full=True),
        pair_batch_sizes=_int_list(pair_batch_sizes, "pair-batch-sizes"),
        teacher=teacher,
        teacher_hidden=hidden,
        teacher_layers=len(fan),
        fanouts=fan,
        student_hidden=hidden,
        student_layers=student_layers,
        repeats=repeats,
        budget_s=budget,
        warmup=warmup,
        khop=khop,
        samplers=_names(samplers) if samplers else None,
        glnn_layers=_int_list(glnn_layers, "glnn-layers"),
        threads=threads,
        device=device,
        seed=seed,
        position_dim=position_dim,
    )
    graph = _bench_graph(nodes, dataset, data_root, seed)
    model = out_dim = None
    if student is not None:
        from g2m.students.io import load_student

        model, _, meta = load_student(student)
        if meta["in_dim"] != graph.num_features:
            raise typer.BadParameter(f"student takes {meta['in_dim']} features, {graph.name} has {graph.num_features}")
        out_dim = meta["out_dim"]
    result = run_latency(graph, cfg, model, out_dim, log=None if quiet else lambda line: typer.echo(line, err=True))
    result["headline"] = headline(result)
    h = result["headline"]
    _report(
        out,
        "latency",
        result,
        latency_figure(result),
        ["task", "batch", "path", "p50_ms", "p95_ms", "p99_ms", "items_per_s", "ratio_p50_vs_student", "repeats"],
        h
        and (
            f"batch {h['batch']}: {h['teacher_path']} {h['teacher_p50_ms']:.2f} ms vs student "
            f"{h['student_p50_ms']:.3f} ms at p50 -> {h['ratio_p50']:.1f}x (the faster sampler; "
            + ", ".join(f"{p} {ms:.2f} ms" for p, ms in h["samplers_p50_ms"].items())
            + ")"
        ),
    )


@bench_app.command("serving")
def serving(
    student: Annotated[
        list[Path],
        typer.Option(
            "--student", "-s", help="A saved student (`g2m distill --out` or `g2m run --save-students`); repeatable."
        ),
    ],
    batch_sizes: Annotated[str, typer.Option(help="Node batches.")] = "1,32,1024",
    precisions: Annotated[str, typer.Option(help="Any of fp32,int8,bf16 (fp32 is the reference).")] = "fp32,int8,bf16",
    repeats: Annotated[int, typer.Option(help="Timed calls per precision and batch (at most).")] = 50,
    budget: Annotated[float, typer.Option(help="Seconds per precision and batch before stopping early.")] = 20.0,
    threads: Threads = None,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("results/serving"),
    data_root: DataRoot = None,
) -> None:
    """Student serving: latency and test score per precision, GFLOP/s against torch.matmul's peak."""
    from g2m.benchmarks.serving import ServingConfig, run_serving
    from g2m.cli.common import check_output_dir
    from g2m.cli.node import rebuild_student_split
    from g2m.students.io import load_student

    cfg = ServingConfig(
        batch_sizes=_int_list(batch_sizes, "batch-sizes"),
        precisions=_names(precisions),
        repeats=repeats,
        budget_s=budget,
        threads=threads,
    )
    check_output_dir(out)
    results, rows = [], []
    for path in student:
        model, _, meta = load_student(path)
        graph, node_split = rebuild_student_split(meta, data_root)
        res = run_serving(graph, node_split, model, meta["metric"], cfg)
        res["student_dir"] = str(path)
        results.append(res)
        rows += [{"dataset": meta["dataset"], "method": meta["config"]["method"], **r} for r in res["rows"]]
        peak = res["matmul_peak"]
        typer.echo(f"{meta['dataset']}: torch.matmul chain at batch {peak['batch']}: {peak['gflops']:.1f} GFLOP/s")
    _report(
        out,
        "serving",
        {"students": results, "rows": rows},
        None,
        [
            "dataset",
            "method",
            "precision",
            "batch",
            "p50_ms",
            "p99_ms",
            "items_per_s",
            "gflops",
            "fraction_of_matmul_peak",
            "test_score",
            "score_change",
        ],
        None,
    )


@bench_app.command("pipeline")
def pipeline(
    ctx: typer.Context,
    dataset: Annotated[
        str, typer.Option("--dataset", "-d", help="Any node dataset (products-like, ogbn-products, ...).")
    ] = "products-like",
    teacher: Annotated[str, typer.Option(help="Teacher GNN.")] = "sage",
    method: Annotated[str, typer.Option(help="Student method.")] = "ffg2m",
    seed: Annotated[int, typer.Option(help="Seed of models and batches.")] = 0,
    nodes: Annotated[Optional[int], typer.Option(help="Synthetic (CSBM) datasets only: number of nodes.")] = None,
    teacher_epochs: Annotated[Optional[int], typer.Option(help="Override the preset's teacher epochs.")] = None,
    student_epochs: Annotated[Optional[int], typer.Option(help="Override the preset's student epochs.")] = None,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("results/pipeline"),
    data_root: DataRoot = None,
    cache_dir: CacheDir = None,
    quiet: Quiet = False,
    device: DeviceOpt = "auto",
    threads: Threads = None,
) -> None:
    """A dataset end to end (teacher in mini-batches, cache, student, evaluation): time and peak RSS per stage."""
    dev = compute_on(device, threads)
    from g2m.benchmarks.pipeline import run_pipeline
    from g2m.cli.common import check_output_dir, hold_output, overrides

    check_output_dir(out)
    hold_output(ctx, out)
    res = run_pipeline(
        dataset,
        teacher,
        method,
        seed,
        str(data_root) if data_root else None,
        cache_dir,
        overrides(epochs=teacher_epochs),
        overrides(epochs=student_epochs),
        overrides(num_nodes=nodes),
        progress=not quiet,
        echo=typer.echo,
        device=dev,
    )
    t, s = res["teacher"]["scores"], res["student"]["scores"]
    _report(
        out,
        "pipeline",
        res,
        None,
        ["stage", "seconds", "peak_rss_mib", "rss_after_mib"],
        f"{dataset} ({res['graph']['nodes']:,} nodes, {res['graph']['edges']:,} edges): total "
        f"{res['total_seconds']:.0f} s, peak RSS {res['max_peak_rss_mib'] / 1024:.1f} GiB; test "
        f"{teacher} teacher {100 * t['test']:.2f}, {method} student {100 * s['test']:.2f}",
    )


@bench_app.command("epoch")
def epoch(
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Dataset.")] = "amazon-photo",
    model: Annotated[str, typer.Option(help="gcn | sage | gat | appnp | mlp")] = "gcn",
    hidden: Annotated[int, typer.Option(help="Hidden width.")] = 2048,
    layers: Annotated[int, typer.Option(help="Layers.")] = 3,
    repeats: Annotated[int, typer.Option(help="Timed steps (median; one untimed step first).")] = 3,
    threads: Threads = None,
    out: Annotated[Path, typer.Option(help="Output directory: epoch.{json,csv,md}.")] = Path("results/epoch"),
    data_root: DataRoot = None,
    device: DeviceOpt = "auto",
) -> None:
    """One full-batch training step: edge_index and dense features against the CSR operands."""
    dev = compute_on(device, threads)
    from g2m.benchmarks.operands import epoch_times
    from g2m.cli.common import check_output_dir
    from g2m.data.registry import load_dataset

    check_output_dir(out)
    res = epoch_times(
        load_dataset(dataset, str(data_root) if data_root else None), model, hidden, layers, repeats, device=dev
    )
    rows = [{"operands": path, "seconds_per_step": secs} for path, secs in res["seconds_per_step"].items()]
    _report(
        out,
        "epoch",
        {**res, "dataset": dataset, "rows": rows},
        None,
        ["operands", "seconds_per_step"],
        f"{dataset}, {model} {layers} x {hidden} on {res['device']}: the sparse operands are "
        f"{res['speedup']:.2f}x as fast (median of {repeats} steps)",
    )


@bench_app.command("student-epoch")
def student_epoch(
    nodes: Annotated[int, typer.Option(help="Nodes of the products-like synthetic graph.")] = 200_000,
    methods: Annotated[str, typer.Option(help="Student methods, comma-separated.")] = "mlp,glnn,lfd,hfd,ffg2m",
    batch_size: Annotated[int, typer.Option(help="Nodes per mini-batch.")] = 4096,
    hidden: Annotated[int, typer.Option(help="Student width.")] = 256,
    layers: Annotated[int, typer.Option(help="Student layers.")] = 3,
    out: Annotated[Path, typer.Option(help="Output directory: student-epoch.{json,csv,md}.")] = Path(
        "results/student-epoch"
    ),
    device: DeviceOpt = "auto",
    threads: Threads = None,
) -> None:
    """One mini-batch student epoch per method on a products-like graph (seconds, peak RSS)."""
    from g2m.benchmarks.student_epoch import COLUMNS, epoch_summary, student_epoch_times
    from g2m.cli.common import check_output_dir

    dev = compute_on(device, threads)
    check_output_dir(out)
    res = student_epoch_times(nodes, _names(methods), batch_size, hidden, layers, device=dev)
    _report(out, "student-epoch", res, None, list(COLUMNS), epoch_summary(res))


@bench_app.command("link-epoch")
def link_epoch(
    graphs: Annotated[
        str, typer.Option(help="Registered datasets and/or 'synthetic', comma-separated.")
    ] = "cora,amazon-photo,coauthor-physics,synthetic",
    models: Annotated[str, typer.Option(help="Any of teacher,mlp,llp.")] = "teacher,mlp,llp",
    synthetic_nodes: Annotated[int, typer.Option(help="Nodes of the products-like synthetic graph.")] = 200_000,
    synthetic_degree: Annotated[
        float, typer.Option(help="Directed edges per node of the synthetic graph (50: 5M undirected at 200k).")
    ] = 50.0,
    epochs: Annotated[int, typer.Option(help="Epochs per measurement (seconds per epoch: their mean).")] = 2,
    threads: Threads = 1,
    data_root: DataRoot = None,
    device: Annotated[str, typer.Option(help="Where to train: " + DEVICE_HELP)] = "cpu",
    quiet: Quiet = False,
    out: Annotated[Path, typer.Option(help="Output directory: link-epoch.{json,csv,md}.")] = Path("results/link-epoch"),
) -> None:
    """Link training per graph: seconds per epoch and peak RSS of the GNN teacher, the MLP student and
    LLP, each in a fresh process, at the graph's link presets."""
    from g2m.benchmarks.link_epoch import COLUMNS, LinkEpochConfig, link_epoch_summary, run_link_epoch
    from g2m.cli.common import check_output_dir

    check_output_dir(out)
    from g2m.device import resolve_device

    resolve_device(device)  # an unknown device is refused before any graph is built
    cfg = LinkEpochConfig(
        graphs=_names(graphs),
        models=_names(models),
        synthetic_nodes=synthetic_nodes,
        synthetic_degree=synthetic_degree,
        epochs=epochs,
        threads=threads,
        data_root=str(data_root) if data_root else None,
        device=device,
    )
    res = run_link_epoch(cfg, progress=not quiet)
    _report(out, "link-epoch", res, None, list(COLUMNS), link_epoch_summary(res))


@bench_app.command("sampling")
def sampling(
    nodes: Annotated[int, typer.Option(help="Nodes of the products-like synthetic graph.")] = 1_000_000,
    fanouts: Annotated[str, typer.Option(help="Fan-out per hop.")] = "15,10",
    batch: Annotated[int, typer.Option(help="Seed nodes per batch.")] = 1024,
    batches: Annotated[int, typer.Option(help="Batches per sampler.")] = 8,
    samplers: Annotated[str, typer.Option(help="Samplers to compare.")] = "pyg,g2m",
    threads: Threads = None,
    out: Annotated[Path, typer.Option(help="Output directory: sampling.{json,csv,md}.")] = Path("results/sampling"),
) -> None:
    """Neighbour sampling alone, per sampler: ms per batch, nodes and edges reached."""
    from g2m.benchmarks.operands import sampling_costs
    from g2m.benchmarks.synthetic import products_like_graph
    from g2m.cli.common import check_output_dir
    from g2m.device import set_threads

    check_output_dir(out)
    set_threads(threads)
    fan = _int_list(fanouts, "fanouts")
    graph = products_like_graph(nodes)
    rows = sampling_costs(graph, fan, batch, _names(samplers), batches)
    _report(
        out,
        "sampling",
        {"rows": rows},
        None,
        ["sampler", "batch", "ms_p50", "nodes_mean", "edges_mean"],
        f"products-like, {graph.num_nodes:,} nodes, {graph.num_edges:,} edges; fan-out {fan}, "
        f"{batches} batches of {batch:,} random seeds (median ms, mean nodes and edges reached)",
    )


def _report(out: Path, name: str, result: dict, figure, columns: list[str], summary: Optional[str]) -> None:
    """Write ``<name>.{json,csv,md,png}`` under ``out`` and print the table (``g2m report --bench
    <name>.json`` prints it again from the file)."""
    from g2m.benchmarks.outputs import save_bench

    table, paths = save_bench(out, name, result, columns, summary, figure)
    typer.echo(table)
    typer.echo("wrote " + ", ".join(map(str, paths)))


def _bench_graph(nodes: int, dataset: Optional[str], data_root: Optional[Path], seed: int):
    if dataset is not None:
        from g2m.data.registry import load_dataset

        return load_dataset(dataset, str(data_root) if data_root else None)
    from g2m.benchmarks.synthetic import products_like_graph

    return products_like_graph(nodes, seed)


@bench_app.command("scale")
def scale(
    sizes: Annotated[str, typer.Option(help="Graph sizes (nodes).")] = "10000,100000,1000000,2500000",
    tasks: Annotated[
        str, typer.Option(help="Any of kd,lfd,hfd,ffg2m,llp,teacher_inference,student_inference.")
    ] = "kd,lfd,hfd,ffg2m,llp,teacher_inference,student_inference",
    avg_degree: Annotated[float, typer.Option(help="Average degree.")] = 25.0,
    chunk_size: Annotated[int, typer.Option(help="Edges per chunk in the edge losses.")] = 500_000,
    edge_doubling: Annotated[int, typer.Option(help="Also run ffg2m at 2x degree on this size (0: skip).")] = 1_000_000,
    threads: Threads = None,
    device: Annotated[str, typer.Option(help="Where to time: " + DEVICE_HELP)] = "cpu",
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("results/scale"),
    quiet: Quiet = False,
) -> None:
    """Time and peak memory of each distillation loss and of inference vs graph size."""
    from g2m.benchmarks.outputs import scale_figure
    from g2m.benchmarks.scale import ScaleConfig, run_scale
    from g2m.cli.common import check_output_dir

    device = str(compute_on(device, None))  # a bad --device: one error line before the first size
    check_output_dir(out)

    cfg = ScaleConfig(
        sizes=_int_list(sizes, "sizes"),
        tasks=_names(tasks),
        avg_degree=avg_degree,
        chunk_size=chunk_size,
        edge_doubling=edge_doubling or None,
        threads=threads,
        device=device,
    )
    result = run_scale(cfg, progress=not quiet)
    d = result["edge_doubling"]
    _report(
        out,
        "scale",
        result,
        scale_figure(result),
        ["nodes", "edges", "task", "seconds", "peak_rss_mib", "peak_extra_mib", "error"],
        d
        and (
            f"ffg2m at 2x edges ({d['edges'][0]:,} -> {d['edges'][1]:,}): peak RSS x{d['peak_rss_ratio']:.2f}, "
            f"peak over inputs x{d['peak_extra_ratio']:.2f}, time x{d['seconds_ratio']:.2f}"
        ),
    )


@bench_app.command("position-probe")
def position_probe(
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Node dataset.")] = "cora",
    backend: Annotated[
        str,
        typer.Option(
            help="DeepWalk learner: gensim (NOSMOG's) | torch (g2m <= 0.1) | random (an N(0, 1) table: the control)."
        ),
    ] = "gensim",
    seeds: Annotated[int, typer.Option(min=1, help="Seeds (splits and tables), 0..N-1.")] = 5,
    out: Annotated[
        Optional[Path], typer.Option(help="Also write the result to this JSON file (`g2m report --probe` renders it).")
    ] = None,
    data_root: DataRoot = None,
    threads: Threads = None,
) -> None:
    """Linear probe of the DeepWalk position table alone (logistic regression, test accuracy)."""
    import json

    from g2m.benchmarks.position_probe import position_probe as probe
    from g2m.cli.common import check_output_dir, echo_json
    from g2m.evaluation.provenance import provenance
    from g2m.files import atomic_write_text

    if out is not None:
        check_output_dir(out.parent)
    compute_on("cpu", threads)
    result = probe(dataset, data_root, backend, seeds)
    echo_json(result)
    if out is not None:
        result["provenance"] = provenance()
        written = atomic_write_text(out, json.dumps(result, indent=2, default=str) + "\n")
        typer.echo(f"wrote {written}")
