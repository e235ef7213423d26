"""STUB (issue 18): to be written."""

from __future__ import annotations


def report() -> None:
    """Not written yet."""
