"""The attempt budget is counted in the database (moderation/items/attempts.py): deferrals are free,
retries and worker deaths are not, and a delivery that finds every attempt used ends the item."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from moderation.items import attempts, services as service
from moderation.domain import policy
from moderation.infra.circuit import CircuitOpen
from moderation.domain.errors import Throttled, TransientFault
from moderation.infra.lease import LeaseBusy, LocalLeases
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.items import models as m
from moderation.alerts.models import Alert
from moderation.infra.db import transaction
from tests.conftest import jpeg_bytes
from tests.fakes.providers import RecordingPublisher

MAX = 3
DIED = "gave up after 3 attempts; the worker died while processing it (killed, possibly out of memory)"


class WorkerKilled(BaseException):
    """A SIGKILL as seen from inside: nothing after it runs (no ``except Exception``, no refund, no failure)."""


@dataclass
class ScriptedProvider:
    """Answers each call with the next entry of ``script``: an exception to raise, or None for "no labels"."""

    script: list = field(default_factory=list)
    name: str = "local"
    reads_s3_directly: bool = False
    calls: int = 0

    def analyze_image(self, image, min_confidence):
        self.calls += 1
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        from moderation.domain.labels import Analysis

        return Analysis(self.name, "scripted-1", [], [], {"ModerationLabels": []})


@pytest.fixture
def provider() -> ScriptedProvider:
    return ScriptedProvider()


@pytest.fixture
def art(make_settings, provider) -> Runtime:
    """A runtime with MODQ_MAX_ATTEMPTS=3 and a scripted provider."""
    settings = make_settings(max_attempts=MAX)
    rt = Runtime(settings, policy.load(settings.thresholds), InMemoryDispatcher(), RecordingPublisher())
    rt._provider, rt._leases = provider, LocalLeases()
    return rt


def queued(rt, media_root) -> str:
    (media_root / "a.jpg").write_bytes(jpeg_bytes())
    return service.submit("a.jpg", rt=rt).item_id


def row(rt, item_id) -> m.Item:
    with transaction(rt.settings.database_url) as s:
        return s.get(m.Item, item_id)


def alerts_of(rt, item_id) -> list[Alert]:
    with transaction(rt.settings.database_url) as s:
        return list(s.scalars(select(Alert).where(Alert.item_id == item_id)))


def test_a_delivery_after_every_attempt_died_fails_the_item_and_alerts_the_operator(art, provider, media_root):
    item_id = queued(art, media_root)
    provider.script = [WorkerKilled()] * MAX
    for n in range(1, MAX + 1):
        with pytest.raises(WorkerKilled):
            service.process_image(item_id, rt=art, owner="task-1")  # the same message, redelivered
        assert (row(art, item_id).status, row(art, item_id).attempts) == ("processing", n)

    assert service.process_image(item_id, rt=art, owner="task-1") == "failed"
    assert provider.calls == MAX  # the fourth delivery did not try again
    item = row(art, item_id)
    assert (item.failure_reason, item.attempts) == (DIED, MAX)
    (alert,) = alerts_of(art, item_id)
    assert (alert.kind, alert.message["kind"], alert.message["reason"]) == ("worker_lost", "worker_lost", DIED)
    assert alert.subject.startswith("modq worker lost: gave up after 3 attempts; the worker died")
    assert art.dispatcher.alerts == [alert.id]  # sent to the operator, not only stored


@pytest.mark.parametrize("deferral", [
    Throttled("Rekognition still throttling"),
    CircuitOpen("rekognition circuit is open"),
    OperationalError("UPDATE items ...", {}, ConnectionResetError("database went away")),
], ids=["throttled", "circuit-open", "database-down"])
def test_a_deferral_gives_its_attempt_back(art, provider, media_root, deferral):
    item_id = queued(art, media_root)
    provider.script = [deferral] * (MAX * 3)  # far more deferrals than attempts
    for _ in range(MAX * 3):
        with pytest.raises(type(deferral)):
            service.process_image(item_id, rt=art)
        assert (row(art, item_id).status, row(art, item_id).attempts) == ("processing", 0)
    assert service.process_image(item_id, rt=art) == "approved"
    assert row(art, item_id).attempts == 1


def test_a_busy_lease_neither_uses_an_attempt_nor_gives_back_the_holders(art, provider, media_root):
    item_id = queued(art, media_root)
    provider.script = [WorkerKilled()]
    with pytest.raises(WorkerKilled):
        service.process_image(item_id, rt=art, owner="task-1")
    art.leases.acquire(item_id, "task-1", 60)  # a SIGKILLed holder never gives its lease back
    with pytest.raises(LeaseBusy):
        service.process_image(item_id, rt=art, owner="task-2")  # a duplicate message waits its turn
    assert row(art, item_id).attempts == 1


def test_transient_faults_use_attempts_and_the_last_fails_the_item_with_its_reason(art, provider, media_root):
    item_id = queued(art, media_root)
    provider.script = [TransientFault("Rekognition still failing after retries (InternalServerError)")] * MAX
    for n in range(1, MAX):
        with pytest.raises(TransientFault):  # Celery retries it with backoff
            service.process_image(item_id, rt=art)
        assert row(art, item_id).attempts == n
    assert service.process_image(item_id, rt=art) == "failed"  # no retry left: failed here, not by Celery
    item = row(art, item_id)
    assert item.failure_reason == ("gave up after 3 attempts: Rekognition still failing after retries "
                                   "(InternalServerError)")
    assert item.attempts == MAX and alerts_of(art, item_id) == []  # the item's fault or AWS's: no operator alert


def test_deaths_and_retries_share_one_budget(art, provider, media_root):
    item_id = queued(art, media_root)
    provider.script = [WorkerKilled(), Throttled("slow down"), TransientFault("timeout"), TransientFault("timeout")]
    with pytest.raises(WorkerKilled):
        service.process_image(item_id, rt=art, owner="task-1")
    with pytest.raises(Throttled):
        service.process_image(item_id, rt=art, owner="task-1")
    with pytest.raises(TransientFault):
        service.process_image(item_id, rt=art, owner="task-1")
    assert service.process_image(item_id, rt=art, owner="task-1") == "failed"
    assert row(art, item_id).failure_reason == "gave up after 3 attempts: timeout"
    assert provider.calls == 4


class DownLeases:
    """The lease store failing before the delivery could start (and be charged)."""

    def acquire(self, item_id, owner, seconds):
        raise TransientFault("lease store: connection refused")

    def release(self, item_id, owner):
        pass


def test_an_error_before_the_charge_still_uses_an_attempt(art, provider, media_root):
    item_id = queued(art, media_root)
    art._leases = DownLeases()
    for n in range(1, MAX):
        with pytest.raises(TransientFault):
            service.process_image(item_id, rt=art)
        assert row(art, item_id).attempts == n  # as Celery counts the retry
    assert service.process_image(item_id, rt=art) == "failed"
    assert row(art, item_id).failure_reason == "gave up after 3 attempts: lease store: connection refused"
    assert provider.calls == 0


def test_an_unexpected_error_uses_its_attempt_and_goes_to_the_task(art, provider, media_root):
    item_id = queued(art, media_root)
    provider.script = [RuntimeError("bug in a decoder")]
    with pytest.raises(RuntimeError):  # the task's on_failure ends the item (tests/unit/worker)
        service.process_image(item_id, rt=art)
    assert (row(art, item_id).status, row(art, item_id).attempts) == ("processing", 1)


def test_a_decided_item_is_not_charged_again(art, provider, media_root):
    item_id = queued(art, media_root)
    assert service.process_image(item_id, rt=art) == "approved"
    assert service.process_image(item_id, rt=art) == "approved"  # a duplicate delivery
    assert row(art, item_id).attempts == 1


def test_messages():
    assert attempts.worker_died(5) == ("gave up after 5 attempts; the worker died while processing it "
                                       "(killed, possibly out of memory)")
    assert attempts.gave_up(2, "timeout") == "gave up after 2 attempts: timeout"
