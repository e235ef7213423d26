"""Celery entry point: ``celery -A worker worker -Q images``."""

from worker.app import app

__all__ = ["app"]
