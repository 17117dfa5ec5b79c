"""Metrics and multi-seed reporting."""

from g2m._lazy import lazy_exports

__all__ = ["markdown_table", "mean_std", "node_metric", "summarize", "write_results"]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "node_metric": "g2m.evaluation.metrics",
        "markdown_table": "g2m.evaluation.report",
        "mean_std": "g2m.evaluation.report",
        "summarize": "g2m.evaluation.report",
        "write_results": "g2m.evaluation.report",
    },
)
