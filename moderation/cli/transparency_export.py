"""STUB (issue 18): to be written."""

from __future__ import annotations


def export() -> None:
    """Not written yet."""
