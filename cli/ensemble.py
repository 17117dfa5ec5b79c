"""``g2m ensemble``: EHDM's ensemble of the link students of several runs (one per teacher)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from g2m.cli.common import DataRoot, DeviceOpt, Threads, check_output_dir, command_line, compute_on, save_result


def ensemble(
    ctx: typer.Context,
    runs: Annotated[
        list[Path],
        typer.Argument(
            help="Link runs of one dataset and split, one per teacher (e.g. -t cn, -t aa, -t ra), each run with "
            "--save-students."
        ),
    ],
    method: Annotated[str, typer.Option(help="The student method of each run to ensemble.")] = "llp",
    out: Annotated[Path, typer.Option(help="Directory for results.json and results.md.")] = Path("results/ensemble"),
    data_root: DataRoot = None,
    device: DeviceOpt = "auto",
    threads: Threads = None,
) -> None:
    """EHDM's ensemble, seed by seed: the mean of the runs' students' link probabilities (its official
    gate's weights are uniform), scored on their shared split. `g2m compare OUT --against RUN
    --across-teachers --a ensemble --b llp` pairs it with another run on the same splits."""
    from g2m.experiments.ensemble import run_link_ensemble

    dev = compute_on(device, threads)
    check_output_dir(out)
    result = run_link_ensemble(runs, method, str(data_root) if data_root else None, dev)
    save_result(out, result, command_line(ctx))
