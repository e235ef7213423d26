"""modq's Celery app with one reliability setting switched off, to show what it protects.

Only tests start it: ``celery -A tests.fakes.unsafe_worker worker ...`` with
``MODQ_TEST_UNSAFE`` set to

- ``acks_early``: ``acks_late`` off, so a task is acknowledged when it is
  received and a worker killed while running it loses it;
- ``no_requeue``: ``reject_on_worker_lost`` off, so the task of a pool process
  that dies is acknowledged as failed instead of going back to the queue.

The guarantee tests run the same scenario against this app and show the item
is lost (tests/integration/faults/test_worker_killed.py).
"""

from __future__ import annotations

import os

from worker import tasks
from worker.app import app

MODE = os.environ["MODQ_TEST_UNSAFE"]
ITEM_TASKS = (tasks.moderate_image, tasks.publish_alert)

if MODE == "acks_early":
    app.conf.task_acks_late = False
    for task in ITEM_TASKS:  # the decorator's acks_late=True wins over the app setting
        task.acks_late = False
elif MODE == "no_requeue":
    app.conf.task_reject_on_worker_lost = False
    for task in ITEM_TASKS:
        task.reject_on_worker_lost = False
else:
    raise SystemExit(f"MODQ_TEST_UNSAFE={MODE!r}: expected acks_early or no_requeue")

__all__ = ["app"]
