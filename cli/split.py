"""`g2m split`: write a link split to disk, so that other code can run on g2m's exact edges."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated

import typer

from g2m.cli.common import DataRoot, Dataset


def split(
    dataset: Dataset,
    out: Annotated[Path, typer.Option(help="File to write (a torch.save pickle).")],
    seed: Annotated[int, typer.Option(help="Split seed, as `g2m run --split-seed` / `g2m tune --seed`.")] = 0,
    data_root: DataRoot = None,
) -> None:
    """Write a transductive link split as OGB's split_edge dict ({train: {edge}, valid / test:
    {edge, edge_neg}}, [K, 2] long tensors): the format OGB link datasets ship and the official
    LLP code reads from data/<dataset>.pkl."""
    import torch

    from g2m.data import get_spec, load_dataset, ogb_split_edge
    from g2m.experiments.link import link_split_for
    from g2m.files import atomic_write_bytes

    graph = load_dataset(dataset, data_root)
    link_split = link_split_for(graph, get_spec(dataset), "transductive", seed)
    split_edge = ogb_split_edge(link_split)
    buffer = io.BytesIO()
    torch.save(split_edge, buffer)
    atomic_write_bytes(out, buffer.getvalue())
    sizes = ", ".join(f"{part}/{kind} {t.size(0):,}" for part, d in split_edge.items() for kind, t in d.items())
    typer.echo(f"{out}: {link_split.key()}: {sizes}")
