"""`g2m datasets`: the registry, with sizes and where each dataset is found."""

from __future__ import annotations

import typer

from g2m.cli.common import DataRoot
from g2m.data import dataset_location, list_datasets, resolve_data_root


def _fmt(v: int | None) -> str:
    return f"{v:,}" if v is not None else "?"


def datasets(data_root: DataRoot = None) -> None:
    """List registered datasets: task, metric, split protocol, sizes and location."""
    root = resolve_data_root(data_root)
    rows = [("name", "task", "metric", "split", "nodes", "edges", "feats", "classes", "where")]
    for s in list_datasets():
        edges = _fmt(s.num_edges) if s.num_edges is not None else _fmt(s.raw_num_edges) + "*"
        rows.append(
            (
                s.name,
                s.task,
                s.metric,
                s.split,
                _fmt(s.num_nodes),
                edges,
                _fmt(s.num_features),
                _fmt(s.num_classes),
                dataset_location(s, root),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    typer.echo(f"\ndata root: {root} (--data-root or G2M_DATA_ROOT)")
    typer.echo("edges: undirected edges counted in both directions; * = as shipped, before symmetrising")
