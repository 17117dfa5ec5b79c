"""`g2m bench ...`: long accuracy and speed benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from g2m.cli.common import CacheDir, DataRoot, DeviceOpt, Quiet, Threads, compute_on
from g2m.methods import DEVICE_HELP

bench_app = typer.Typer(help="Benchmarks (long runs; not part of the tests).", no_args_is_help=True)


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


def _report(
    out: Path,
    name: str,
    result: dict,
    figure,
    columns: list[str],
    summary: Optional[str],
    runner: str = "g2m bench",
) -> None:
    """Write ``<name>.{json,csv,md,png}`` under ``out`` and print the table (``g2m report --bench
    <name>.json`` prints it again from the file)."""
    from g2m.benchmarks.outputs import save_bench

    table, paths = save_bench(out, name, result, columns, summary, figure, runner)
    typer.echo(table)
    typer.echo("wrote " + ", ".join(map(str, paths)))


def _bench_graph(nodes: int, dataset: Optional[str], data_root: Optional[Path], seed: int):
    if dataset is not None:
        from g2m.data.registry import load_dataset

        return load_dataset(dataset, str(data_root) if data_root else None)
    from g2m.data.csbm import products_like_graph

    return products_like_graph(nodes, seed)
