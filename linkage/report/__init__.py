"""Self-contained HTML reports."""

from .link_report import write_link_report

__all__ = ["write_link_report"]
