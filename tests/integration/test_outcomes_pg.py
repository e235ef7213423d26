"""``outcomes.record`` on PostgreSQL: its row lock alone turns two racing records of one item into
one decision, one alert and no error.

No item lease here (it expired, or Redis lost it): two deliveries of one item both analysed it and
now record at the same moment. The first holds its transaction open until the second is seen
waiting on the item row, so the two really overlap. Without the lock the second would read the
item as still ``processing``, write a second decision, and only the unique constraint would stop
it: with an ``IntegrityError`` that throws away its transaction, provider-call accounting included.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select, text

from config.settings import Settings
from moderation.items import outcomes
from moderation.domain import policy
from moderation.providers import usage
from moderation.domain.policy import decide
from moderation.domain.labels import Analysis
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.items import models as m
from moderation.alerts.models import Alert
from moderation.infra.db import transaction
from moderation.providers.models import ProviderCall
from tests.fakes.providers import RecordingPublisher, labels_for
from tests.integration.conftest import wait_for
from tests.integration.fresh_pg import fresh_database

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def outcomes_pg_url():
    with fresh_database("modq_outcomes") as url:
        yield url


@pytest.fixture
def pg_rt(outcomes_pg_url, tmp_path):
    settings = Settings(database_url=outcomes_pg_url, media_root=tmp_path)
    return Runtime(settings, policy.load(settings.thresholds), InMemoryDispatcher(), RecordingPublisher())


def processing_item(rt: Runtime) -> str:
    with transaction(rt.settings.database_url) as s:
        item = m.Item(media_uri=f"s3://bucket/{uuid.uuid4()}.jpg", media_type="image", status=m.PROCESSING,
                      provider="local", attempts=2)
        s.add(item)
        s.flush()
        return item.id


def lock_waiters(database_url: str) -> int:
    """Sessions of this database blocked on a lock right now."""
    with transaction(database_url) as s:
        return s.scalar(text("SELECT count(*) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND wait_event_type = 'Lock'"))


def test_two_concurrent_records_of_one_item_give_one_decision_one_alert_and_no_error(pg_rt):
    url = pg_rt.settings.database_url
    item_id = processing_item(pg_rt)
    content_key = f"sha256-of-{item_id}"
    labels = labels_for("Hate Symbols", 70)
    the_policy = pg_rt.policy.for_provider("local")
    decision = decide(labels, the_policy)
    assert decision.verdict == m.FLAGGED  # an alert is due: a second one would show
    first_inside, second_inside = threading.Event(), threading.Event()
    results: dict[str, str] = {}
    errors: list[BaseException] = []

    def hold_open(*_):
        """The first record, inside its transaction: wait until the second one really races it."""
        first_inside.set()
        wait_for(lambda: lock_waiters(url) or second_inside.is_set(), 30, 0.02,
                 "the second record to wait on the item row (or, without the lock, to get past it)")

    def delivery(name: str, extra) -> None:
        try:
            with usage.recording(url, item_id, "image"):
                usage.note_call("local", "DetectModerationLabels", "ok")  # each delivery paid for its analysis
                analysis = Analysis("local", f"model-{name}", labels, [], {"ModerationLabels": []})
                results[name] = outcomes.record(pg_rt, item_id, analysis, decision, content_key,
                                                the_policy.min_confidence, extra=extra)
        except BaseException as exc:  # surfaced below, not lost in the thread
            errors.append(exc)

    first = threading.Thread(target=delivery, args=("first", hold_open))
    second = threading.Thread(target=delivery, args=("second", lambda *_: second_inside.set()))
    first.start()
    assert first_inside.wait(30), "the first record never reached its transaction"
    second.start()
    first.join(60)
    second.join(60)

    assert not errors, errors
    assert results == {"first": m.FLAGGED, "second": m.FLAGGED}  # the second saw the first's decision
    assert not second_inside.is_set(), "the second record got past the row lock"
    with transaction(url) as s:
        def count(model, *where):
            return s.scalar(select(func.count()).select_from(model).where(*where))

        assert count(m.Decision, m.Decision.item_id == item_id) == 1
        assert count(Alert, Alert.item_id == item_id) == 1
        assert count(m.AuditEvent, m.AuditEvent.item_id == item_id, m.AuditEvent.action == "decide") == 1
        assert count(m.Analysis, m.Analysis.content_key == content_key) == 1
        # Both deliveries called the provider; both calls are accounted, the losing one's too.
        assert s.scalar(select(func.sum(ProviderCall.calls)).where(ProviderCall.item_id == item_id)) == 2
        item = s.get(m.Item, item_id)
        assert (item.status, item.verdict) == (m.FLAGGED, m.FLAGGED)
    assert len(pg_rt.dispatcher.alerts) == 1  # one alert handed to the relay
