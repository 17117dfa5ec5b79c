"""Metrics and multi-seed reporting."""

from g2m.evaluation.metrics import node_metric
from g2m.evaluation.report import markdown_table, mean_std, summarize, write_results

__all__ = ["markdown_table", "mean_std", "node_metric", "summarize", "write_results"]
