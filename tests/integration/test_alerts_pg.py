"""The outbox relay on PostgreSQL: two relays at once publish each alert once, and a crash between
publish and commit is absorbed by the alert's ``dedup_id``.

Two relays happen in production: beat's ``flush_outbox`` and a ``publish_alert`` task (or two
flushes when a slow one overruns its interval). ``alerts.deliver`` keeps the row locked while it
publishes; these tests hold one relay inside ``publish`` until the other is seen waiting on that
row, so the two really overlap.
"""

from __future__ import annotations

import json
import threading
import uuid

import boto3
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import OperationalError

from moderation.alerts import services as alerts
from moderation.items import models as m
from moderation.infra.clock import utcnow
from moderation.alerts.models import Alert
from moderation.infra.db import transaction
from tests.integration.conftest import wait_for
from tests.integration.fresh_pg import fresh_database

pytestmark = pytest.mark.integration
REGION = "us-east-1"


@pytest.fixture(scope="module")
def alerts_pg_url():
    with fresh_database("modq_alerts") as url:
        yield url


@pytest.fixture
def outbox(alerts_pg_url) -> str:
    """The database with an empty outbox: a relay here flushes only this test's rows."""
    with transaction(alerts_pg_url) as s:
        s.execute(update(Alert).where(Alert.published_at.is_(None)).values(published_at=utcnow()))
    return alerts_pg_url


def pending_alerts(database_url: str, n: int) -> list[int]:
    """``n`` flagged items, each with its outbox row, none published yet."""
    ids = []
    with transaction(database_url) as s:
        for _ in range(n):
            item = m.Item(media_uri=f"s3://bucket/{uuid.uuid4()}.jpg", media_type="image", status=m.FLAGGED,
                          verdict=m.FLAGGED, policy_version="p1")
            s.add(item)
            s.flush()
            alert = alerts.decision_alert(item, m.FLAGGED, [], [], "p1", utcnow())
            s.add(alert)
            s.flush()
            ids.append(alert.id)
    return ids


def lock_waiters(database_url: str) -> int:
    """Sessions of this database blocked on a lock right now."""
    with transaction(database_url) as s:
        return s.scalar(text("SELECT count(*) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND wait_event_type = 'Lock'"))


class OverlappingPublisher:
    """Records every publish; the first publish of each alert waits until the other relay races it.

    The other relay either waits on the row (the lock holds) or, without the lock, arrives in
    ``publish`` with the same alert: both count as "racing", so the wait ends either way.
    """

    def __init__(self, database_url: str):
        self.database_url = database_url
        self.published: list[str] = []  # dedup ids, one per call
        self._entered: dict[int, int] = {}
        self._lock = threading.Lock()

    def publish(self, alert: Alert) -> str:
        with self._lock:
            self.published.append(alert.dedup_id)
            self._entered[alert.id] = self._entered.get(alert.id, 0) + 1
            first = self._entered[alert.id] == 1
        if first:
            wait_for(lambda: lock_waiters(self.database_url) or self._entered[alert.id] > 1, 30, 0.02,
                     f"the other relay to race for alert {alert.id}")
        return f"msg-{alert.id}-{len(self.published)}"


def test_two_relays_flushing_the_same_rows_at_once_publish_each_alert_once(outbox):
    ids = pending_alerts(outbox, 3)
    publisher = OverlappingPublisher(outbox)
    sent: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def relay() -> None:
        try:
            start.wait()
            sent.append(alerts.flush_outbox(outbox, publisher))
        except BaseException as exc:  # surfaced below, not lost in the thread
            errors.append(exc)

    relays = [threading.Thread(target=relay) for _ in range(2)]
    for t in relays:
        t.start()
    for t in relays:
        t.join(120)

    assert not errors, errors
    with transaction(outbox) as s:
        rows = list(s.scalars(select(Alert).where(Alert.id.in_(ids)).order_by(Alert.id)))
    assert sorted(publisher.published) == sorted(a.dedup_id for a in rows)  # each alert once
    assert sum(sent) == len(ids)
    assert all(a.published_at is not None and a.attempts == 1 for a in rows)


@pytest.fixture
def fifo_subscriber(moto_endpoint):
    """A FIFO SNS topic with a FIFO SQS queue subscribed: it drops repeats of a dedup id, as AWS does."""
    name = f"modq-crash-{uuid.uuid4().hex[:8]}.fifo"
    sns = boto3.client("sns", endpoint_url=moto_endpoint, region_name=REGION)
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name=REGION)
    topic_arn = sns.create_topic(Name=name, Attributes={"FifoTopic": "true"})["TopicArn"]
    queue_url = sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    yield alerts.SnsPublisher(topic_arn, client=sns), sqs, queue_url
    sqs.delete_queue(QueueUrl=queue_url)
    sns.delete_topic(TopicArn=topic_arn)


class CrashAfterFirstPublish:
    """SNS accepts the first message, then the relay's database connection dies before its commit.

    Later publishes (the next flush) go through untouched. Records the dedup id of every publish.
    """

    def __init__(self, publisher: alerts.SnsPublisher, database_url: str):
        self.publisher, self.database_url = publisher, database_url
        self.published: list[str] = []

    def publish(self, alert: Alert) -> str:
        message_id = self.publisher.publish(alert)
        self.published.append(alert.dedup_id)
        if len(self.published) == 1:
            self._kill_the_relays_connection()
        return message_id

    def _kill_the_relays_connection(self) -> None:
        with transaction(self.database_url) as s:  # the relay's session: the only one idle in a transaction
            killed = s.scalars(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                                    "current_database() AND state = 'idle in transaction' "
                                    "AND pid <> pg_backend_pid()")).all()
        assert killed == [True], killed


def test_a_crash_between_publish_and_commit_is_absorbed_by_the_dedup_id(outbox, fifo_subscriber):
    sns, sqs, queue_url = fifo_subscriber
    (alert_id,) = pending_alerts(outbox, 1)
    publisher = CrashAfterFirstPublish(sns, outbox)

    with pytest.raises(OperationalError):  # the commit that would have marked it published never happened
        alerts.deliver(alert_id, outbox, publisher)
    with transaction(outbox) as s:
        assert s.get(Alert, alert_id).published_at is None  # so the next flush sends it again
    assert alerts.flush_outbox(outbox, publisher) == 1

    with transaction(outbox) as s:
        row = s.get(Alert, alert_id)
        dedup_id, item_id, published_at = row.dedup_id, row.item_id, row.published_at
    assert published_at is not None
    assert publisher.published == [dedup_id, dedup_id]  # SNS accepted it twice, under one dedup id
    received = drain(sqs, queue_url)
    assert [msg["item_id"] for msg in received] == [item_id]  # the subscriber saw it once


def drain(sqs, queue_url: str) -> list[dict]:
    """Every message the subscriber can receive, waiting a little so a late repeat shows up."""
    found: list[dict] = []

    def empty_twice() -> bool:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for msg in batch:
            found.append(json.loads(json.loads(msg["Body"])["Message"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=msg["ReceiptHandle"])
        return bool(found) and not batch

    wait_for(empty_twice, 30, 0.1, "the alert to reach the subscriber")
    return found


def test_the_deciding_tasks_own_publish_and_a_flush_at_once_publish_each_alert_once(outbox):
    """The worker publishes a decision's alert itself after the commit (``InlineRelay``: ``deliver`` with
    the row in hand) while beat's flush may pick the same pending rows: the row lock still decides."""
    ids = pending_alerts(outbox, 3)
    with transaction(outbox) as s:
        written = {a.id: a for a in s.scalars(select(Alert).where(Alert.id.in_(ids)))}
    publisher = OverlappingPublisher(outbox)
    left: list[list[int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def deciding_task() -> None:
        try:
            start.wait()
            left.append(alerts.InlineRelay(outbox, publisher, pause=30).deliver(ids, written))
        except BaseException as exc:  # surfaced below, not lost in the thread
            errors.append(exc)

    def flush() -> None:
        try:
            start.wait()
            alerts.flush_outbox(outbox, publisher)
        except BaseException as exc:
            errors.append(exc)

    relays = [threading.Thread(target=deciding_task), threading.Thread(target=flush)]
    for t in relays:
        t.start()
    for t in relays:
        t.join(120)

    assert not errors, errors
    assert left == [[]]  # nothing handed on to a publish_alert task
    with transaction(outbox) as s:
        rows = list(s.scalars(select(Alert).where(Alert.id.in_(ids)).order_by(Alert.id)))
    assert sorted(publisher.published) == sorted(a.dedup_id for a in rows)  # each alert once
    assert all(a.published_at is not None and a.attempts == 1 for a in rows)
