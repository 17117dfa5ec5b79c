"""``python -m lab``: the commands that regenerate and check g2m's own docs.

The GLNN-protocol, heterophily and link tables with the papers' claims checked, the
micro-benchmarks of g2m's kernels and epochs on our machine, and the probes: each writes a
results or bench file that the docs quote between markers (``lab/tests/test_docs.py`` checks them).
Run from the repository root: ``python -m lab COMMAND --help``. The ``g2m`` command keeps what a
user runs on their own graphs (``g2m bench latency | serving | pipeline``, ``g2m report``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

import g2m.cli.main  # noqa: F401  (g2m's help style: switches show no type)
from g2m.cli import bench as g2m_bench
from g2m.cli.bench import _int_list, _names
from g2m.cli.common import CacheDir, DataRoot, DeviceOpt, Quiet, Threads, compute_on
from g2m.methods import DEVICE_HELP


def _report(out: Path, name: str, result: dict, figure, columns: list[str], summary: Optional[str]) -> None:
    """Write and print a bench record, as ``g2m bench`` does, naming ``python -m lab`` as its runner."""
    g2m_bench._report(out, name, result, figure, columns, summary, runner="python -m lab")


app = typer.Typer(
    name="lab",
    help="g2m's lab: regenerate and check the docs' tables and bench records (not shipped with g2m).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command("node-table")
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
    from g2m.cli.common import check_output_dir, hold_output
    from lab.node_table import merge_node_tables, parse_cells, run_node_table

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


@app.command("rank-loss")
def rank_loss(
    anchors: Annotated[int, typer.Option(help="Anchors.")] = 1024,
    contexts: Annotated[int, typer.Option(help="Context nodes per anchor.")] = 32,
    repeats: Annotated[int, typer.Option(help="Timed repeats (best is kept).")] = 3,
    threads: Threads = None,
    out: Annotated[Path, typer.Option(help="Output directory: rank-loss.{json,csv,md}.")] = Path("results/rank-loss"),
) -> None:
    """LLP rank loss: vectorised vs a naive pair-list implementation (forward + backward)."""
    from g2m.cli.common import check_output_dir
    from g2m.device import set_threads
    from lab.rank_loss import bench_rank_loss

    check_output_dir(out)
    set_threads(threads)
    row = bench_rank_loss(anchors, contexts, repeats=repeats)
    _report(out, "rank-loss", {"rows": [row]}, None, list(row), None)


@app.command("loss-call")
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
    from g2m.cli.common import check_output_dir
    from g2m.data.registry import load_dataset
    from lab.loss_call import bench_loss_call

    check_output_dir(out)
    graph = load_dataset(dataset, str(data_root) if data_root else None)
    rows = bench_loss_call(graph.edge_index.to(dev), graph.num_nodes, graph.num_classes, repeats, calls)
    for row in rows:
        row["dataset"] = dataset
    _report(out, "loss-call", {"rows": rows}, None, list(rows[0]), None)


@app.command("link-table")
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
    from g2m.cli.common import check_output_dir, hold_output
    from lab.link_table import run_link_table

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


@app.command("edge-memory")
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
    from g2m.cli.common import check_output_dir
    from lab.edge_memory import edge_loss_memory

    chunks = _int_list(chunk_size, "chunk-size")
    if not chunks:
        raise typer.BadParameter("chunk-size: give at least one (0: no chunking)")
    check_output_dir(out)
    rows = [edge_loss_memory(nodes, edges, classes, c or None, loss) for c in chunks]
    _report(out, "edge-memory", {"rows": rows}, None, list(rows[0]), None)


@app.command("epoch")
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
    from g2m.cli.common import check_output_dir
    from g2m.data.registry import load_dataset
    from lab.operands import epoch_times

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


@app.command("student-epoch")
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
    from g2m.cli.common import check_output_dir
    from lab.student_epoch import COLUMNS, epoch_summary, student_epoch_times

    dev = compute_on(device, threads)
    check_output_dir(out)
    res = student_epoch_times(nodes, _names(methods), batch_size, hidden, layers, device=dev)
    _report(out, "student-epoch", res, None, list(COLUMNS), epoch_summary(res))


@app.command("link-epoch")
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
    from g2m.cli.common import check_output_dir
    from lab.link_epoch import COLUMNS, LinkEpochConfig, link_epoch_summary, run_link_epoch

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


@app.command("link-e2e")
def link_e2e(
    nodes: Annotated[int, typer.Option(help="Nodes of the synthetic graph.")] = 200_000,
    degree: Annotated[float, typer.Option(help="Directed edges per node (50: 5M undirected at 200k).")] = 50.0,
    epochs: Annotated[int, typer.Option(help="Epochs of the teacher and of each student (no early stop).")] = 2,
    threads: Threads = 1,
    device: Annotated[str, typer.Option(help="Where each stage trains: " + DEVICE_HELP)] = "cpu",
    work: Annotated[
        Path, typer.Option(help="Work folder: the graph file, the teacher cache, each stage's run.")
    ] = Path("runs/link-e2e"),
    out: Annotated[Path, typer.Option(help="Output directory: link-e2e.{json,csv,md}.")] = Path("results/link-e2e"),
) -> None:
    """A link run end to end on a synthetic graph (graph file, `g2m teacher`, `g2m run` MLP, `g2m run`
    LLP), each stage in its own process: wall time, peak RSS, test scores."""
    from g2m.cli.common import check_output_dir
    from lab.link_e2e import COLUMNS, LinkE2EConfig, link_e2e_summary, run_link_e2e

    check_output_dir(out)
    from g2m.device import resolve_device

    resolve_device(device)  # an unknown device is refused before the graph is built
    try:
        cfg = LinkE2EConfig(nodes=nodes, degree=degree, epochs=epochs, threads=threads or 1, device=device)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    res = run_link_e2e(cfg, work)
    _report(out, "link-e2e", res, None, list(COLUMNS), link_e2e_summary(res))


@app.command("model-hashes")
def model_hashes(
    out: Annotated[Optional[Path], typer.Option(help="Write the lines here (default: print them).")] = None,
) -> None:
    """A fingerprint of every teacher and student architecture's numerics, one line per configuration:
    run before and after a refactor that should move no number, and diff the two."""
    import torch

    from g2m.cli.common import check_output_dir
    from g2m.files import atomic_write_text
    from lab.model_hashes import model_hashes as lines

    if out is not None:
        check_output_dir(out.parent)  # before the minute of training, not after
    torch.set_num_threads(1)  # sums split by thread: one thread, so that two runs compare
    text = "\n".join(lines()) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        atomic_write_text(out, text)
        typer.echo(f"wrote {out}")


@app.command("sampling")
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
    from g2m.cli.common import check_output_dir
    from g2m.data.csbm import products_like_graph
    from g2m.device import set_threads
    from lab.operands import sampling_costs

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


@app.command("scale")
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
    from g2m.cli.common import check_output_dir
    from lab.scale import ScaleConfig, run_scale

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


@app.command("position-probe")
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
        Optional[Path],
        typer.Option(help="Also write the result to this JSON file (`python -m lab report --probe` renders it)."),
    ] = None,
    data_root: DataRoot = None,
    threads: Threads = None,
) -> None:
    """Linear probe of the DeepWalk position table alone (logistic regression, test accuracy)."""
    import json

    from g2m.cli.common import check_output_dir, echo_json
    from g2m.evaluation.provenance import provenance
    from g2m.files import atomic_write_text
    from lab.position_probe import position_probe as probe

    if out is not None:
        check_output_dir(out.parent)
    compute_on("cpu", threads)
    result = probe(dataset, data_root, backend, seeds)
    echo_json(result)
    if out is not None:
        result["provenance"] = provenance()
        written = atomic_write_text(out, json.dumps(result, indent=2, default=str) + "\n")
        typer.echo(f"wrote {written}")


@app.command("markers")
def markers(
    check: Annotated[bool, typer.Option("--check", help="List the stale blocks; write nothing.")] = False,
) -> None:
    """Rewrite every marked block of the README and docs/ (`<!-- g2m report ARGS -->`, `<!-- lab
    report ARGS -->`, `<!-- g2m compare ARGS -->`) to what its command prints from the committed
    files. Run from the repository root after a results file changes."""
    from lab.markers import pages, refresh

    stale = {page: refresh(page, write=not check) for page in pages(Path.cwd())}
    for page, blocks in stale.items():
        for block in blocks:
            typer.echo(f"{page.relative_to(Path.cwd())}: {block}" + ("" if check else " (rewritten)"))
    if check and any(stale.values()):
        raise typer.Exit(1)


def main() -> None:
    """Run the lab's CLI; errors print one line and exit with status 2, as ``g2m``'s."""
    import sys

    from g2m.errors import G2MError

    try:
        app()
    except (G2MError, ValueError, FileNotFoundError) as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(2)


@app.command("report")
def report(
    results: Annotated[
        list[Path], typer.Argument(help="Node results files (--checks) or position-probe files (--probe).")
    ],
    checks: Annotated[
        Optional[str],
        typer.Option(
            help="The `g2m report --summary` table of node results files, then the checks of a node-table "
            "protocol (public | glnn | heterophily: the papers' claims), recomputed from the files."
        ),
    ] = None,
    probe_rows: Annotated[
        bool,
        typer.Option(
            "--probe",
            help="The files are `python -m lab position-probe --out` results; one row per dataset, one column per "
            "DeepWalk backend.",
        ),
    ] = False,
) -> None:
    """What only the docs render: node tables with a protocol's claims checked, and the position probe
    (the rest of the docs' tables: `g2m report`)."""
    from g2m.cli.report import SUMMARY_TITLE, load_json, summary_cells
    from g2m.errors import G2MError
    from g2m.evaluation.report import summary_table
    from lab.node_table import CHECKS
    from lab.position_probe import probe_table

    if (checks is None) == (not probe_rows):
        raise G2MError("give --checks PROTOCOL (node results files) or --probe (position-probe files)")
    if probe_rows:
        typer.echo(probe_table([load_json(p, "position-probe file") for p in results], [str(p) for p in results]))
        return
    if checks not in CHECKS:
        raise G2MError(f"unknown --checks {checks!r}; choose one of {', '.join(sorted(CHECKS))}")
    cells = summary_cells(results)
    text = summary_table(cells, SUMMARY_TITLE).rstrip()
    typer.echo(text + "\n\n" + "\n".join(f"- {line}" for line in CHECKS[checks](cells)))
