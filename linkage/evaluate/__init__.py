"""Measuring linkage against ground truth or clerical labels."""

from .metrics import pairwise_metrics, recall_by_group
from .truth import read_people, read_truth

__all__ = ["pairwise_metrics", "recall_by_group", "read_people", "read_truth"]
