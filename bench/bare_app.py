"""Benchmark 1's baseline: modq's own Celery app and configuration, and a task that does nothing.

Same broker, transport options, acks_late, prefetch, serializer and task
events as modq's tasks, so that the ratio measures modq's work per item and
not a difference in Celery settings. ``celery -A bench.bare_app worker -Q bench-noop``.
"""

from worker.app import app

QUEUE = "bench-noop"


@app.task(name="bench.noop", acks_late=True, ignore_result=True)
def noop(i: int) -> None:
    return None
