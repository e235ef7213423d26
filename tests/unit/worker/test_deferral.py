"""What is retried, what is deferred, how giving up is reported, and the broker settings behind
guarantees 1, 2 and 8."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
from sqlalchemy.exc import OperationalError

from config.settings import Settings, get_settings
from moderation.items import services as service
from moderation.infra.circuit import CircuitOpen
from moderation.domain.errors import Deferred, Throttled, TransientFault
from moderation.infra.lease import LeaseBusy
from moderation.bootstrap import set_runtime
from moderation.items import models as m
from moderation.infra.db import transaction
from tests.conftest import jpeg_bytes
from worker.app import app, transport_options
from worker.base import defer_delay
from worker.tasks import moderate_image, reap_stuck


def test_moderate_image_defers_what_is_not_the_items_fault():
    # counted: a 5xx, a timeout; not counted: throttling, an open circuit, a busy lease, the database down
    assert moderate_image.autoretry_for == (TransientFault,)
    assert moderate_image.defer_on == (Deferred, OperationalError)
    assert moderate_image.dont_autoretry_for == (Deferred,)  # or autoretry would count them first
    assert all(issubclass(e, Deferred) for e in (Throttled, CircuitOpen, LeaseBusy))


def test_defer_delay_uses_the_errors_estimate_or_backs_off_with_jitter_and_a_cap():
    random.seed(1)
    assert 12 <= defer_delay(12.0, 1, 600) <= 18  # a limiter wait, a cool-down, a lease
    assert [round(defer_delay(None, n, 600) / 2 ** n, 1) >= 1.0 for n in (1, 2, 3)] == [True] * 3
    assert defer_delay(None, 30, 600) == 600 and defer_delay(5000, 1, 600) == 600
    assert defer_delay(0.001, 1, 600) == 0.1
    spread = {round(defer_delay(10.0, 1, 600), 3) for _ in range(20)}
    assert len(spread) > 10  # a throttled fleet does not come back in step


def test_reaper_runs_on_beat_in_the_maintenance_queue():
    settings = get_settings()
    entry = app.conf.beat_schedule["reap-stuck-items"]
    assert entry["task"] == reap_stuck.name == "modq.reap_stuck"
    assert entry["schedule"] == settings.reaper_interval_seconds
    assert app.conf.task_routes["modq.reap_stuck"] == {"queue": "maintenance"}


@pytest.mark.parametrize("timeout, interval", [(3600, 10), (30, 3), (4, 1)])
def test_abandoned_tasks_are_swept_for_often_enough(timeout, interval):
    options = transport_options(SimpleNamespace(broker_visibility_timeout=timeout, worker_concurrency=2,
                                                broker_key_prefix=""))
    assert options["visibility_timeout"] == timeout
    assert (options["unacked_restore_interval"], options["unacked_restore_throttle"]) == (interval, 1)
    assert "global_keyprefix" not in options


def test_key_prefix_namespaces_the_broker():
    options = transport_options(Settings(broker_key_prefix="tenant-a:"))  # validated like any setting
    assert options["global_keyprefix"] == "tenant-a:"


def test_giving_up_reports_the_databases_attempt_count(rt, media_root):
    """Celery's ``retries`` misses deliveries whose worker died: the reason says what items.attempts says."""
    (media_root / "a.jpg").write_bytes(jpeg_bytes())
    item_id = service.submit("a.jpg", rt=rt).item_id
    with transaction(rt.settings.database_url) as s:  # two deliveries began, one died, one raised
        s.get(m.Item, item_id).status, s.get(m.Item, item_id).attempts = m.PROCESSING, 2
    set_runtime(rt)
    try:
        moderate_image.on_failure(RuntimeError("bug in a decoder"), "task-1", (item_id,), {}, None)
    finally:
        set_runtime(None)
    with transaction(rt.settings.database_url) as s:
        item = s.get(m.Item, item_id)
        assert (item.status, item.attempts) == ("failed", 2)
        assert item.failure_reason == "gave up after 2 attempts: RuntimeError: bug in a decoder"
