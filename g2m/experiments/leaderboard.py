"""A run's results in the shape of an OGB leaderboard submission.

OGB asks for (https://ogb.stanford.edu/docs/leader_rules/): at least 10 runs with different
seeds, the test and validation score as mean +- std over the runs (the score from OGB's
Evaluator), the number of parameters, the hardware, and the code / command that produced it.
:func:`leaderboard_entry` builds that from a ``results.json`` of ``g2m run`` (node or link);
the scores in it already come from OGB's Evaluator (accuracy and Hits@K / MRR).
"""

from __future__ import annotations

import statistics
from typing import Any

from g2m.errors import G2MError
from g2m.evaluation.results import Results

OGB_MIN_RUNS = 10


def student_parameters(config: dict[str, Any], in_dim: int, out_dim: int, link: bool = False) -> int:
    """Trainable parameters of the student ``config`` describes (built, then counted): the
    MLP, plus its pair scorer for link prediction (the MLP then outputs ``hidden`` units)."""
    from torch import nn

    from g2m.config import LinkStudentConfig, StudentConfig
    from g2m.students.mlp import MLP
    from g2m.teachers.link import LinkScorer

    if not link:
        model: nn.Module = MLP(in_dim, out_dim, **StudentConfig(**config).model_kwargs())
    else:
        cfg = LinkStudentConfig(**config)
        model = nn.ModuleList([MLP(in_dim, cfg.hidden, **cfg.model_kwargs()), LinkScorer(cfg.scorer, cfg.hidden)])
    return sum(p.numel() for p in model.parameters())


def leaderboard_entry(
    results: Results,
    method: str,
    min_runs: int = OGB_MIN_RUNS,
    dims: tuple[int, int] | None = None,
    metric: str | None = None,
) -> dict[str, Any]:
    """The OGB submission fields for ``method`` of a ``results.json`` (node or link).

    ``dims`` = (features, classes) of the graph, for the parameter count. ``metric``: link
    results only, the test metric to report (default: Hits@20, the one validation uses).
    """
    from g2m.evaluation.report import is_link_result

    link = is_link_result(results)
    test_key = "test"
    if link:
        metric = metric or "hits@20"
        test_key = metric  # link runs store their test metrics by name (val is Hits@20)
    elif metric not in (None, results["metric"]):
        raise G2MError(f"node results report {results['metric']}, not {metric}")
    runs = [r for r in results["runs"] if r["model"] == method]
    if not runs:
        known = sorted({r["model"] for r in results["runs"]})
        raise G2MError(f"no runs of {method!r} in these results; they hold {', '.join(known)}")
    if len(runs) < min_runs:
        raise G2MError(
            f"OGB's leaderboard asks for at least {min_runs} runs; {method!r} has {len(runs)} "
            f"(rerun with --seeds {min_runs}, or pass --min-runs to see the entry anyway)"
        )
    if test_key not in runs[0]:
        options = sorted(
            k for k in runs[0] if k not in ("model", "seed", "val", "cached", "split") and isinstance(runs[0][k], float)
        )
        raise G2MError(f"no test {metric!r} in these results; choose one of {', '.join(options)}")
    entry: dict[str, Any] = {
        "dataset": results["experiment"]["dataset"],
        "method": method,
        "metric": metric if link else results["metric"],
        "val_metric": "hits@20" if link else results["metric"],
        "runs": len(runs),
        "seeds": [r["seed"] for r in runs],
    }
    for part, key in (("test", test_key), ("val", "val")):
        values = [float(r[key]) for r in runs]
        entry[f"{part}_mean"] = statistics.fmean(values)
        entry[f"{part}_std"] = statistics.stdev(values) if len(values) > 1 else 0.0
    config = results.get("student_configs", {}).get(method)
    if config is not None and dims is not None:
        entry["parameters"] = student_parameters(config, *dims, link=link)
    prov = results.get("provenance", {})
    threads = results.get("torch_threads", prov.get("torch_threads", "?"))  # the training runs' count
    device = prov.get("device") or {}
    accelerator = f"{device['gpu']} (CUDA {device.get('cuda')})" if device.get("gpu") else "CPU only"
    entry["hardware"] = (
        f"{prov.get('cpu', '?')}, {prov.get('logical_cpus', '?')} logical CPUs, {threads} torch threads ({accelerator})"
    )
    parts = results.get("parts_provenance") or []
    entry["command"] = (
        prov.get("command")
        if not parts
        else " && ".join(p.get("command", "?") for p in parts) + f" && {prov.get('command')}"
    )
    entry["code"] = f"g2m {prov.get('g2m', '?')} (commit {prov.get('commit', '?')})"
    entry["teacher"] = results.get("teacher_config", {}).get("model")
    return entry


def leaderboard_markdown(entry: dict[str, Any]) -> str:
    pct = 100.0
    lines = [
        f"| Method | Test {entry['metric']} | Validation {entry['val_metric']} | #Params | Hardware | Runs |",
        "|---|---|---|---|---|---|",
        f"| g2m {entry['method']} (teacher {entry['teacher']}) | {pct * entry['test_mean']:.2f} ± "
        f"{pct * entry['test_std']:.2f} | {pct * entry['val_mean']:.2f} ± {pct * entry['val_std']:.2f} | "
        f"{entry.get('parameters', '?'):,} | {entry['hardware']} | {entry['runs']} |",
        "",
        f"Command: `{entry['command']}`  ",
        f"Code: {entry['code']}",
    ]
    return "\n".join(lines) + "\n"
