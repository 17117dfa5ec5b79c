"""``g2m tune``: Optuna search over each method's declared space, validation only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from g2m.cli.common import (
    CacheDir,
    DataRoot,
    DeviceOpt,
    Quiet,
    Threads,
    check_output_dir,
    compute_on,
    echo_json,
    teacher_for,
)


def tune(
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Dataset (its TOML declares the search spaces).")],
    methods: Annotated[str, typer.Option(help="Comma-separated methods; each gets the same trial budget.")],
    task: Annotated[str, typer.Option(help="node | link")] = "node",
    trials: Annotated[int, typer.Option(help="Trials per method (finished + pruned, counted across resumes).")] = 30,
    teacher: Annotated[
        Optional[str],
        typer.Option("--teacher", "-t", help="Teacher (default: the recipe's, else gcn for node and sage for link)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Split and teacher seed every trial uses; also the sampler's seed.")] = 0,
    setting: Annotated[str, typer.Option(help="transductive | production (link) | inductive (node)")] = "transductive",
    split: Annotated[
        Optional[str],
        typer.Option(help="Node split protocol (e.g. glnn: GLNN/CPF's per-class split; default: the dataset's)."),
    ] = None,
    epochs: Annotated[
        Optional[int], typer.Option(help="Maximum student epochs per trial (default: the preset).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Study directory: study.db (resumable), tune.json, preset.toml.")] = Path(
        "results/tune"
    ),
    data_root: DataRoot = None,
    cache_dir: CacheDir = None,
    quiet: Quiet = False,
    recipe: Annotated[
        Optional[str],
        typer.Option(
            help="Node: tune inside a paper's teacher and student loop (datasets/recipes: glnn, krd, nosmog, "
            "...); the search spaces stay the dataset's, and the preset goes with "
            "`g2m run --recipe` of the same name."
        ),
    ] = None,
    device: DeviceOpt = "auto",
    threads: Threads = None,
) -> None:
    """Tune each method (TPE sampler, median pruner, fixed budget) and write a preset for `g2m run --preset`."""
    dev = compute_on(device, threads)
    from g2m.cli.common import overrides
    from g2m.experiments.tune import tune_methods

    check_output_dir(out)
    chosen = [m.strip() for m in methods.split(",") if m.strip()]
    teacher = teacher_for(task, teacher, recipe if task == "node" else None)
    results = tune_methods(
        dataset,
        task,
        chosen,
        trials,
        out,
        teacher,
        seed,
        setting,
        str(data_root) if data_root else None,
        cache_dir,
        overrides(epochs=epochs),
        progress=not quiet,
        echo=typer.echo,
        split=split,
        device=dev,
        recipe=recipe,
    )
    echo_json({m: {"best_val": r.best_value, "best_params": r.best_params} for m, r in results.items()})
    split_arg = f" --split {split}" if split else ""
    recipe_arg = f" --recipe {recipe}" if recipe and task == "node" else ""  # the loop the trials ran in
    typer.echo(
        f"preset: {out / 'preset.toml'} (use: g2m run -d {dataset} --task {task}{split_arg}{recipe_arg} "
        f"--preset {out / 'preset.toml'})"
    )
