"""Alerts: building outbox rows, publishing to SNS (Stubber), and the outbox relay."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

import boto3
import pytest
import structlog
from botocore.exceptions import NoCredentialsError
from botocore.stub import Stubber

from moderation.alerts import services as alerts
from moderation.infra import db, migrate
from moderation.alerts.models import Alert
from moderation.items.models import Item

TOPIC = "arn:aws:sns:us-east-1:123456789012:modq-alerts"
FIFO_TOPIC = "arn:aws:sns:us-east-1:123456789012:modq-alerts.fifo"
DECIDED_AT = datetime(2026, 11, 22, 10, 30, 5, tzinfo=timezone.utc)


def item(**overrides) -> Item:
    values = dict(id="5b0e4c7a-1111-4222-8333-444455556666", external_id="upload-42",
                  media_uri="s3://modq-media/in/upload-42.jpg", media_type="image")
    values.update(overrides)
    return Item(**values)


def reason(label: str, confidence: float, action: str, threshold: float | None = 80.0) -> dict:
    """A decision reason as service.record_decision stores it."""
    text = label if action == "none" else f"{label} {confidence:.1f}% >= {action} {threshold:g} (rule: {label})"
    return {"label": label, "confidence": confidence, "action": action, "threshold": threshold,
            "rule": label, "text": text}


REASONS = [
    reason("Weapons", 81.234, "flag"),
    reason("Explicit Nudity", 97.456, "reject", 90.0),
    reason("Smoking", 99.9, "none", None),  # detected but below every threshold: not a top label
    reason("Exposed Female Nipple", 92.0, "reject", 90.0),
    reason("Alcoholic Beverages", 60.0, "flag", 55.0),
]
LABELS = [
    {"Name": "Smoking", "ParentName": "Drugs & Tobacco Paraphernalia & Use", "TaxonomyLevel": 3, "Confidence": 99.9},
    {"Name": "Explicit Nudity", "ParentName": "Explicit", "TaxonomyLevel": 2, "Confidence": 97.456},
]


# --- decision_alert / deployment_alert -----------------------------------


def test_decision_alert_top_labels_are_fired_reasons_by_confidence():
    alert = alerts.decision_alert(item(), "rejected", REASONS, LABELS, "policy-3f2a", DECIDED_AT)

    assert alert.message["top_labels"] == [
        {"name": "Explicit Nudity", "confidence": 97.46},
        {"name": "Exposed Female Nipple", "confidence": 92.0},
        {"name": "Weapons", "confidence": 81.23},
    ]


def test_decision_alert_message_subject_attributes_and_dedup():
    alert = alerts.decision_alert(item(), "rejected", REASONS, LABELS, "policy-3f2a", DECIDED_AT)

    assert alert.item_id == "5b0e4c7a-1111-4222-8333-444455556666"
    assert alert.kind == "decision"
    assert alert.dedup_id == "5b0e4c7a-1111-4222-8333-444455556666:decision:rejected"
    assert alert.subject == "modq rejected image: Explicit Nudity (97%) [upload-42]"
    assert alert.attributes == {"verdict": "rejected", "top_label": "Explicit Nudity", "media_type": "image"}
    assert alert.message["item_id"] == "5b0e4c7a-1111-4222-8333-444455556666"
    assert alert.message["external_id"] == "upload-42"
    assert alert.message["media_uri"] == "s3://modq-media/in/upload-42.jpg"
    assert alert.message["verdict"] == "rejected"
    assert alert.message["policy_version"] == "policy-3f2a"
    assert alert.message["decided_at"] == "2026-11-22T10:30:05+00:00"
    assert alert.message["reasons"] == [r["text"] for r in REASONS]
    json.dumps(alert.message)  # it is stored in a JSON column and published as JSON


def test_decision_alert_without_fired_reasons_falls_back_to_labels():
    quiet = [reason("Smoking", 99.9, "none", None)]
    labels = [{"Name": "Drinking", "ParentName": "Alcohol Use", "TaxonomyLevel": 3, "Confidence": 51.0},
              {"Name": "Smoking", "ParentName": "Drugs & Tobacco Paraphernalia & Use", "TaxonomyLevel": 3,
               "Confidence": 99.9}]

    alert = alerts.decision_alert(item(), "flagged", quiet, labels, "p1", DECIDED_AT)

    assert alert.message["top_labels"] == [{"name": "Smoking", "confidence": 99.9},
                                           {"name": "Drinking", "confidence": 51.0}]
    assert alert.subject.startswith("modq flagged image: Smoking (100%)")


def test_decision_alert_with_no_labels_at_all():
    alert = alerts.decision_alert(item(external_id=None), "flagged", [], [], "p1", DECIDED_AT)

    assert alert.message["top_labels"] == []
    assert alert.attributes["top_label"] == ""
    # without an external id the subject names the item id
    assert alert.subject == "modq flagged image: no label [5b0e4c7a-1111-4222-8333-444455556666]"


def test_decision_alert_keeps_at_most_three_top_labels():
    many = [reason(f"L{i}", 50.0 + i, "flag") for i in range(6)]

    alert = alerts.decision_alert(item(), "flagged", many, [], "p1", DECIDED_AT)

    assert [t["name"] for t in alert.message["top_labels"]] == ["L5", "L4", "L3"]


def test_deployment_alert():
    alert = alerts.deployment_alert(item(), "IAM denied rekognition:DetectModerationLabels")

    assert alert.kind == "deployment"
    assert alert.dedup_id == "5b0e4c7a-1111-4222-8333-444455556666:deployment"
    assert alert.subject == "modq deployment fault: IAM denied rekognition:DetectModerationLabels"
    assert alert.message == {"item_id": "5b0e4c7a-1111-4222-8333-444455556666", "external_id": "upload-42",
                             "media_uri": "s3://modq-media/in/upload-42.jpg", "kind": "deployment",
                             "reason": "IAM denied rekognition:DetectModerationLabels"}
    assert alert.attributes == {"verdict": "failed", "top_label": "", "media_type": "image"}


# --- subject_line ---------------------------------------------------------


@pytest.mark.parametrize("text", [
    "x" * 100,
    "x" * 101,
    "modq rejected image: " + "Explicit Nudity " * 20,
    "é" * 150,  # SNS counts characters, not bytes, for the subject
])
def test_subject_line_long_input_is_cut_below_100_characters(text):
    subject = alerts.subject_line(text)

    assert len(subject) < 100
    assert subject.startswith(text[:90])
    assert subject != text


def test_subject_line_short_input_is_unchanged():
    text = "modq flagged image: Weapons (81%) [upload-42]"
    assert alerts.subject_line(text) == "modq flagged image: Weapons (81%) [upload-42]"
    assert alerts.subject_line("y" * 99) == "y" * 99


@pytest.mark.parametrize("text, expected", [
    ("line one\nline two", "line one line two"),
    ("crlf\r\nend", "crlf  end"),
    ("tab\there", "tab here"),
    ("nul\x00bell\x07esc\x1b", "nul bell esc "),
    ("del\x7fc1\x85", "del c1 "),
    ("sep\u2028para\u2029", "sep para "),
])
def test_subject_line_removes_line_breaks_and_control_characters(text, expected):
    subject = alerts.subject_line(text)

    assert subject == expected
    assert all(ch.isprintable() for ch in subject)


def test_subject_line_of_an_alert_from_hostile_input_is_one_printable_line():
    alert = alerts.decision_alert(item(external_id="evil\nBcc: x@y\r\n" + "z" * 200), "flagged",
                                  [reason("Weapons", 81.0, "flag")], [], "p1", DECIDED_AT)

    assert len(alert.subject) < 100
    assert "\n" not in alert.subject and "\r" not in alert.subject
    assert all(ch.isprintable() for ch in alert.subject)


# --- SnsPublisher (Stubber on a real SNS client) -------------------------


@pytest.fixture
def sns():
    client = boto3.client("sns", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        yield client, stub


def rejected_alert() -> Alert:
    return alerts.decision_alert(item(), "rejected", REASONS, LABELS, "policy-3f2a", DECIDED_AT)


EXPECTED_MESSAGE = {
    "item_id": "5b0e4c7a-1111-4222-8333-444455556666",
    "external_id": "upload-42",
    "media_uri": "s3://modq-media/in/upload-42.jpg",
    "media_type": "image",
    "verdict": "rejected",
    "top_labels": [{"name": "Explicit Nudity", "confidence": 97.46},
                   {"name": "Exposed Female Nipple", "confidence": 92.0},
                   {"name": "Weapons", "confidence": 81.23}],
    "reasons": ["Weapons 81.2% >= flag 80 (rule: Weapons)",
                "Explicit Nudity 97.5% >= reject 90 (rule: Explicit Nudity)",
                "Smoking",
                "Exposed Female Nipple 92.0% >= reject 90 (rule: Exposed Female Nipple)",
                "Alcoholic Beverages 60.0% >= flag 55 (rule: Alcoholic Beverages)"],
    "policy_version": "policy-3f2a",
    "decided_at": "2026-11-22T10:30:05+00:00",
    "kind": "decision",
}
EXPECTED_ATTRIBUTES = {
    "verdict": {"DataType": "String", "StringValue": "rejected"},
    "top_label": {"DataType": "String", "StringValue": "Explicit Nudity"},
    "media_type": {"DataType": "String", "StringValue": "image"},
}


def test_publish_to_standard_topic_sends_exact_params(sns):
    client, stub = sns
    stub.add_response("publish", {"MessageId": "0f3c6a2e-aaaa-4bbb-8ccc-0123456789ab"}, expected_params={
        "TopicArn": TOPIC,
        "Subject": "modq rejected image: Explicit Nudity (97%) [upload-42]",
        "Message": json.dumps(EXPECTED_MESSAGE, sort_keys=True),
        "MessageAttributes": EXPECTED_ATTRIBUTES,
    })  # no MessageGroupId / MessageDeduplicationId on a standard topic

    message_id = alerts.SnsPublisher(TOPIC, client=client).publish(rejected_alert())

    assert message_id == "0f3c6a2e-aaaa-4bbb-8ccc-0123456789ab"
    stub.assert_no_pending_responses()


def test_published_message_is_json_a_subscriber_can_read(sns):
    client, stub = sns
    seen = {}

    def capture(params, **kwargs):
        seen.update(params)

    client.meta.events.register("provide-client-params.sns.Publish", capture)
    stub.add_response("publish", {"MessageId": "m-1"})

    alerts.SnsPublisher(TOPIC, client=client).publish(rejected_alert())

    body = json.loads(seen["Message"])
    assert body == EXPECTED_MESSAGE
    assert len(seen["Message"].encode("utf-8")) < 262_144


def test_publish_to_fifo_topic_adds_group_and_dedup_ids(sns):
    client, stub = sns
    alert = rejected_alert()
    stub.add_response("publish", {"MessageId": "m-fifo", "SequenceNumber": "10000000000000000001"},
                      expected_params={
                          "TopicArn": FIFO_TOPIC,
                          "Subject": "modq rejected image: Explicit Nudity (97%) [upload-42]",
                          "Message": json.dumps(EXPECTED_MESSAGE, sort_keys=True),
                          "MessageAttributes": EXPECTED_ATTRIBUTES,
                          "MessageGroupId": "5b0e4c7a-1111-4222-8333-444455556666",
                          "MessageDeduplicationId": "5b0e4c7a-1111-4222-8333-444455556666:decision:rejected",
                      })

    publisher = alerts.SnsPublisher(FIFO_TOPIC, client=client)
    assert publisher.publish(alert) == "m-fifo"

    stub.assert_no_pending_responses()


def test_publish_leaves_out_empty_attributes(sns):
    # SNS rejects an attribute with an empty value; deployment alerts have no top label.
    client, stub = sns
    stub.add_response("publish", {"MessageId": "m-dep"}, expected_params={
        "TopicArn": TOPIC,
        "Subject": "modq deployment fault: access denied",
        "Message": json.dumps({"external_id": "upload-42", "item_id": "5b0e4c7a-1111-4222-8333-444455556666",
                               "kind": "deployment", "media_uri": "s3://modq-media/in/upload-42.jpg",
                               "reason": "access denied"}, sort_keys=True),
        "MessageAttributes": {"verdict": {"DataType": "String", "StringValue": "failed"},
                              "media_type": {"DataType": "String", "StringValue": "image"}},
    })

    alerts.SnsPublisher(TOPIC, client=client).publish(alerts.deployment_alert(item(), "access denied"))

    stub.assert_no_pending_responses()


@pytest.mark.parametrize("code, status", [
    ("InternalError", 500),
    ("InvalidParameter", 400),
    ("NotFound", 404),
    ("AuthorizationError", 403),
])
def test_client_error_becomes_publish_error(sns, code, status):
    client, stub = sns
    stub.add_client_error("publish", service_error_code=code, service_message=f"sns says {code}",
                          http_status_code=status)

    with pytest.raises(alerts.PublishError) as info:
        alerts.SnsPublisher(TOPIC, client=client).publish(rejected_alert())

    assert code in str(info.value)
    assert isinstance(info.value.__cause__, client.exceptions.ClientError)
    stub.assert_no_pending_responses()


def test_internal_error_is_the_typed_sns_exception(sns):
    # §5: the wire code "InternalError" is what boto3 maps to InternalErrorException.
    client, stub = sns
    stub.add_client_error("publish", service_error_code="InternalError", service_message="boom",
                          http_status_code=500)

    with pytest.raises(alerts.PublishError) as info:
        alerts.SnsPublisher(TOPIC, client=client).publish(rejected_alert())

    assert isinstance(info.value.__cause__, client.exceptions.InternalErrorException)


class NoCredentialsClient:
    """An SNS client on a host where the SDK chain finds no credentials (botocore raises at signing)."""

    def publish(self, **_params):
        raise NoCredentialsError()


def test_missing_credentials_become_a_one_line_publish_error_naming_what_to_set():
    with pytest.raises(alerts.PublishError) as info:
        alerts.SnsPublisher(TOPIC, client=NoCredentialsClient()).publish(rejected_alert())

    assert str(info.value).startswith("no AWS credentials for SNS: set AWS_ACCESS_KEY_ID")
    assert "Unable to locate credentials" not in str(info.value)


def test_log_publisher_logs_the_alert():
    alert = rejected_alert()
    alert.id = 7

    with structlog.testing.capture_logs() as logs:
        message_id = alerts.LogPublisher().publish(alert)

    assert message_id == "log-7"
    [entry] = [e for e in logs if e["event"] == "alert"]
    assert entry["subject"] == "modq rejected image: Explicit Nudity (97%) [upload-42]"
    assert entry["alert"]["verdict"] == "rejected"
    assert entry["attributes"]["top_label"] == "Explicit Nudity"


# --- deliver / flush_outbox (outbox relay on SQLite) -----------------------


@dataclass
class FakePublisher:
    """Records what it sent; ``fail`` (or a dedup id in ``fail_for``) makes it raise."""

    sent: list = field(default_factory=list)
    fail: bool = False
    fail_for: set = field(default_factory=set)

    def publish(self, alert: Alert) -> str:
        if self.fail or alert.dedup_id in self.fail_for:
            raise alerts.PublishError(f"SNS refused {alert.dedup_id} (fake)")
        self.sent.append(alert.dedup_id)
        return f"msg-{len(self.sent)}"


@pytest.fixture
def url(tmp_path):
    database_url = "sqlite:///" + str(tmp_path / "alerts.db")
    migrate.upgrade(database_url)
    yield database_url
    db.dispose_all()


def add_alerts(url: str, n: int = 1) -> list[int]:
    """One item per alert, each alert as decision_alert builds it; returns alert ids."""
    ids = []
    with db.transaction(url) as s:
        for i in range(n):
            it = item(id=f"00000000-0000-4000-8000-00000000000{i}", external_id=f"upload-{i}",
                      media_uri=f"s3://modq-media/in/upload-{i}.jpg")
            s.add(it)
            s.flush()
            alert = alerts.decision_alert(it, "flagged", [reason("Weapons", 81.0 + i, "flag")], [], "p1",
                                          DECIDED_AT)
            s.add(alert)
            s.flush()
            ids.append(alert.id)
    return ids


def load(url: str, alert_id: int) -> Alert:
    with db.transaction(url) as s:
        return s.get(Alert, alert_id)


def test_deliver_publishes_once_and_marks_published(url):
    [alert_id] = add_alerts(url)
    publisher = FakePublisher()

    assert alerts.deliver(alert_id, url, publisher) is True

    assert publisher.sent == ["00000000-0000-4000-8000-000000000000:decision:flagged"]
    row = load(url, alert_id)
    assert row.published_at is not None
    assert row.attempts == 1
    assert row.last_error is None


def test_second_deliver_is_a_no_op(url):
    [alert_id] = add_alerts(url)
    publisher = FakePublisher()
    alerts.deliver(alert_id, url, publisher)
    first = load(url, alert_id).published_at

    assert alerts.deliver(alert_id, url, publisher) is False

    assert len(publisher.sent) == 1
    row = load(url, alert_id)
    assert row.attempts == 1
    assert row.published_at == first


def test_deliver_of_a_missing_alert_returns_false(url):
    publisher = FakePublisher()
    assert alerts.deliver(12345, url, publisher) is False
    assert publisher.sent == []


def test_failed_publish_stays_pending_with_the_error_recorded(url):
    [alert_id] = add_alerts(url)
    publisher = FakePublisher(fail=True)

    with pytest.raises(alerts.PublishError, match=f"alert {alert_id}"):
        alerts.deliver(alert_id, url, publisher)
    with pytest.raises(alerts.PublishError):
        alerts.deliver(alert_id, url, publisher)

    row = load(url, alert_id)
    assert row.published_at is None
    assert row.attempts == 2
    assert "SNS refused 00000000-0000-4000-8000-000000000000:decision:flagged" in row.last_error
    assert publisher.sent == []

    publisher.fail = False  # SNS is back: the next delivery sends it and clears the error
    assert alerts.deliver(alert_id, url, publisher) is True
    row = load(url, alert_id)
    assert row.published_at is not None
    assert row.attempts == 3
    assert row.last_error is None


def test_any_exception_from_the_publisher_is_recorded_as_publish_error(url):
    [alert_id] = add_alerts(url)

    class Broken:
        def publish(self, alert):
            raise RuntimeError("socket closed")

    with pytest.raises(alerts.PublishError, match="socket closed"):
        alerts.deliver(alert_id, url, Broken())

    row = load(url, alert_id)
    assert (row.published_at, row.attempts, row.last_error) == (None, 1, "socket closed")


def test_flush_outbox_publishes_pending_and_skips_failures(url):
    ids = add_alerts(url, 3)
    failing = "00000000-0000-4000-8000-000000000001:decision:flagged"
    publisher = FakePublisher(fail_for={failing})

    assert alerts.flush_outbox(url, publisher) == 2

    assert publisher.sent == ["00000000-0000-4000-8000-000000000000:decision:flagged",
                              "00000000-0000-4000-8000-000000000002:decision:flagged"]
    rows = [load(url, i) for i in ids]
    assert [r.published_at is not None for r in rows] == [True, False, True]
    assert rows[1].attempts == 1 and "SNS refused" in rows[1].last_error

    publisher.fail_for.clear()
    assert alerts.flush_outbox(url, publisher) == 1  # only the one still pending
    assert publisher.sent[-1] == failing
    assert len(publisher.sent) == 3
    assert alerts.flush_outbox(url, publisher) == 0


def test_flush_outbox_respects_limit(url):
    add_alerts(url, 3)
    publisher = FakePublisher()

    assert alerts.flush_outbox(url, publisher, limit=2) == 2
    assert publisher.sent == ["00000000-0000-4000-8000-000000000000:decision:flagged",
                              "00000000-0000-4000-8000-000000000001:decision:flagged"]


def test_flush_outbox_with_every_publish_failing_sends_nothing(url):
    ids = add_alerts(url, 2)
    publisher = FakePublisher(fail=True)

    assert alerts.flush_outbox(url, publisher) == 0

    assert [load(url, i).attempts for i in ids] == [1, 1]
    assert all(load(url, i).published_at is None for i in ids)


# --- video: top labels say where to look -----------------------------------


def video_reason(label: str, confidence: float, action: str, first_ms: int, threshold: float = 80.0) -> dict:
    """A reason as moderation.domain.timeline.reasons stores it for a video."""
    return {**reason(label, confidence, action, threshold), "first_ms": first_ms,
            "timestamps_ms": [first_ms, first_ms + 1000]}


def test_video_alert_top_labels_carry_their_first_timestamps():
    reasons = [video_reason("Nazi Party", 95.0, "reject", 61_000, 90.0), video_reason("Weapons", 85.0, "flag", 1500)]
    alert = alerts.decision_alert(item(media_type="video", media_uri="s3://modq-media/in/clip.mp4"), "rejected",
                                  reasons, [], "p1", DECIDED_AT)

    assert alert.message["top_labels"] == [
        {"name": "Nazi Party", "confidence": 95.0, "first_timestamp_ms": 61_000, "first_timestamp": "1:01.000"},
        {"name": "Weapons", "confidence": 85.0, "first_timestamp_ms": 1500, "first_timestamp": "0:01.500"},
    ]
    assert alert.subject == "modq rejected video: Nazi Party (95%) at 1:01.000 [upload-42]"
    assert alert.attributes == {"verdict": "rejected", "top_label": "Nazi Party", "media_type": "video"}


def written(url: str, alert_id: int) -> Alert:
    """The row as the deciding task holds it after its commit: in memory, detached."""
    alert = load(url, alert_id)
    return Alert(id=alert.id, item_id=alert.item_id, kind=alert.kind, dedup_id=alert.dedup_id,
                 subject=alert.subject, message=alert.message, attributes=alert.attributes)


def test_deliver_of_a_written_alert_publishes_it_once_and_marks_it(url):
    [alert_id] = add_alerts(url)
    publisher = FakePublisher()

    assert alerts.deliver(alert_id, url, publisher, written(url, alert_id)) is True
    assert alerts.deliver(alert_id, url, publisher, written(url, alert_id)) is False  # another relay's copy

    assert publisher.sent == ["00000000-0000-4000-8000-000000000000:decision:flagged"]
    row = load(url, alert_id)
    assert row.published_at is not None and row.attempts == 1 and row.last_error is None


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_inline_relay_publishes_at_once_and_leaves_nothing_for_the_task(url):
    ids = add_alerts(url, 2)
    publisher = FakePublisher()
    relay = alerts.InlineRelay(url, publisher, pause=30)

    assert relay.deliver(ids, {ids[0]: written(url, ids[0])}) == []  # the second one is read from the outbox

    assert len(publisher.sent) == 2
    assert all(load(url, i).published_at is not None for i in ids)


def test_inline_relay_hands_alerts_to_the_task_after_a_failure_until_its_pause_ends(url):
    ids = add_alerts(url, 3)
    clock = Clock()
    publisher = FakePublisher(fail=True)
    relay = alerts.InlineRelay(url, publisher, pause=30, clock=clock)

    assert relay.deliver(ids[:2], {}) == ids[:2]  # the first failed (recorded on its row); both go to the task
    assert load(url, ids[0]).attempts == 1 and load(url, ids[1]).attempts == 0
    publisher.fail = False
    clock.now += 29
    assert relay.deliver(ids[2:], {}) == ids[2:]  # paused: not even tried
    assert publisher.sent == []
    clock.now += 1
    assert relay.deliver(ids[2:], {}) == []
    assert publisher.sent == ["00000000-0000-4000-8000-000000000002:decision:flagged"]
