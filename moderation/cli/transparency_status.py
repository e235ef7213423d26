"""STUB (issue 18): to be written."""

from __future__ import annotations


def status() -> None:
    """Not written yet."""
