"""Measuring linkage against ground truth or clerical labels."""

from .metrics import pairwise_metrics, recall_by_group

__all__ = ["pairwise_metrics", "recall_by_group"]
