"""The subjects rule on PostgreSQL: a subject crossing its tenant's rule gives exactly one ``subject.flagged``
webhook delivery, and two decisions crossing it at the same moment still alert once.

Done-when of issue 16.4. The race: two items of one subject are rejected by two workers at once, each
counting the other's rejection as not yet committed (READ COMMITTED) and so both seeing the same crossing.
The first holds its transaction open until the second is seen waiting on the crossing's alert (its
``dedup_id``), then commits: the second's savepoint drops its alert and flag, and its decision still commits.
"""

from __future__ import annotations

import hashlib
import itertools
import threading

import pytest
from sqlalchemy import func, select

from config.settings import Settings
from moderation.alerts import fanout, webhooks
from moderation.alerts.models import Alert, WebhookDelivery
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.domain import policy
from moderation.infra.db import transaction
from moderation.infra.lease import LocalLeases
from moderation.items import models as m, services as service, subjects
from moderation.items.queries import set_item
from moderation.items.submission import Origin
from moderation.tenants import services as tenants
from tests.conftest import jpeg_bytes
from tests.fakes.providers import FakeProvider, RecordingPublisher, labels_for
from tests.integration.conftest import wait_for
from tests.integration.fresh_pg import fresh_database
from tests.integration.test_outcomes_pg import lock_waiters

pytestmark = pytest.mark.integration
RULE = "subjects: {alert_after: {rejected: 3, within: 7d}}\n"
_n = itertools.count(1)


@pytest.fixture(scope="module")
def subjects_pg_url():
    with fresh_database("modq_subjects") as url:
        yield url


@pytest.fixture
def pg_rt(subjects_pg_url, tmp_path):
    settings = Settings(database_url=subjects_pg_url, media_root=tmp_path)
    rt = Runtime(settings, policy.parse(settings.thresholds.read_text() + RULE), InMemoryDispatcher(),
                 RecordingPublisher())
    rt._provider, rt._leases = FakeProvider(), LocalLeases()
    return rt


def tenant(rt) -> int:
    return tenants.create(rt.settings.database_url, f"t{next(_n)}", "test")["id"]


def rejected(rt, tenant_id: int, subject: str) -> str:
    n = next(_n)
    data = jpeg_bytes(width=100 + n, color=(n % 256, 3, 5))
    (rt.settings.media_root / f"s{n}.jpg").write_bytes(data)
    rt.provider.by_key[hashlib.sha256(data).hexdigest()] = labels_for("Hate Symbols", 95)
    item_id = service.submit(f"s{n}.jpg", rt=rt, subject_id=subject, origin=Origin(tenant_id, "test")).item_id
    assert service.process_image(item_id, rt=rt) == m.REJECTED
    return item_id


def count(rt, query) -> int:
    with transaction(rt.settings.database_url) as s:
        return s.scalar(query)


def test_crossing_the_rule_sends_exactly_one_subject_flagged_webhook(pg_rt):
    tid = tenant(pg_rt)
    webhooks.add(pg_rt.settings.database_url, tid, "https://127.0.0.1:9/hook", ["subject.flagged"], "test",
                 private_hosts=frozenset({"127.0.0.1"}))
    for _ in range(4):  # the third crosses; the fourth is the same crossing
        rejected(pg_rt, tid, "spammer")
    fanout.sweep(pg_rt.settings.database_url)  # whatever the deciding process did not fan out itself

    deliveries = select(WebhookDelivery.event, func.count()).group_by(WebhookDelivery.event)
    with transaction(pg_rt.settings.database_url) as s:
        assert dict(s.execute(deliveries).all()) == {"subject.flagged": 1}
        [alert] = s.scalars(select(Alert).where(Alert.kind == "subject", Alert.tenant_id == tid)).all()
    assert alert.attributes == {"kind": "subject"} and alert.message["subject_id"] == "spammer"


def test_two_decisions_crossing_at_once_alert_once(pg_rt):
    url, tid = pg_rt.settings.database_url, tenant(pg_rt)
    rejected(pg_rt, tid, "racer"), rejected(pg_rt, tid, "racer")
    with transaction(url) as s:  # two more of its items, decided by two workers at the same moment
        racing = [_queued(s, tid, "racer"), _queued(s, tid, "racer")]
    first_inside, errors, written = threading.Event(), [], {}

    def decide(item_id: str, hold: bool) -> None:
        try:
            with transaction(url) as s:
                set_item(s, item_id, status=m.REJECTED, verdict=m.REJECTED)
                written[item_id] = subjects.after_verdict(s, pg_rt, s.get(m.Item, item_id), m.REJECTED)
                if hold:
                    first_inside.set()
                    wait_for(lambda: lock_waiters(url) > 0, 30, 0.02, "the second decision to wait on the first")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    first = threading.Thread(target=decide, args=(racing[0], True))
    first.start()
    assert first_inside.wait(30)
    second = threading.Thread(target=decide, args=(racing[1], False))
    second.start()
    first.join(60), second.join(60)

    assert errors == []
    assert [len(written[i]) for i in racing] == [1, 0]
    assert count(pg_rt, select(func.count()).select_from(Alert).where(Alert.kind == "subject",
                                                                      Alert.tenant_id == tid)) == 1
    assert count(pg_rt, select(func.count()).select_from(m.SubjectFlag).where(m.SubjectFlag.tenant_id == tid)) == 1
    assert count(pg_rt, select(func.count()).select_from(m.Item).where(m.Item.id.in_(racing),
                                                                       m.Item.verdict == m.REJECTED)) == 2


def _queued(s, tenant_id: int, subject: str) -> str:
    item = m.Item(tenant_id=tenant_id, subject_id=subject, media_uri=f"s3://b/{next(_n)}.jpg", media_type="image",
                  status=m.PROCESSING)
    s.add(item)
    s.flush()
    return item.id
