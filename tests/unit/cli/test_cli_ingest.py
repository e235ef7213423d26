"""``modq ingest s3-events`` and ``modq ingest rejects``."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from moderation.infra import aws
from moderation.cli.main import app
from tests.conftest import jpeg_bytes
from tests.s3_event_shapes import notification

runner = CliRunner()
BUCKET = "ugc-uploads"


@pytest.fixture
def queue(cli_env, make_settings, monkeypatch):
    from config.settings import get_settings

    aws.reset_clients()
    with mock_aws():
        s3, sqs = boto3.client("s3", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="modq-uploads")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
        monkeypatch.setenv("MODQ_S3_EVENTS_QUEUE_URL", url)
        get_settings.cache_clear()
        cli_env.settings = make_settings(s3_events_queue_url=url, s3_events_wait_seconds=0)
        yield s3, sqs, url
    aws.reset_clients()


def test_once_drains_and_prints_counts_as_json(cli_env, queue):
    s3, sqs, url = queue
    s3.put_object(Bucket=BUCKET, Key="u/a b.jpg", Body=jpeg_bytes())
    sqs.send_message(QueueUrl=url, MessageBody=notification({"eventName": "ObjectCreated:Put"}))

    result = runner.invoke(app, ["ingest", "s3-events", "--once", "--json"])

    assert result.exit_code == 0, result.output
    # the last line: unconfigured structlog (tests only) writes its lines to stdout too
    assert json.loads(result.stdout.splitlines()[-1]) == {"messages": 3, "created": 1, "duplicate": 0, "skipped": {},
                                         "ignored": {"test_event": 1}, "rejected": 1, "kept": 0}
    assert len(cli_env.dispatcher.sent) == 1

    rejects = runner.invoke(app, ["ingest", "rejects", "--json"])
    assert rejects.exit_code == 0, rejects.output
    [row] = json.loads(rejects.stdout)
    assert row["reason"] == "s3 is missing or not an object" and json.loads(row["raw"]) == {
        "eventName": "ObjectCreated:Put"}


def test_once_prints_a_readable_line(cli_env, queue):
    s3, _sqs, _url = queue
    s3.put_object(Bucket=BUCKET, Key="u/a.jpg", Body=jpeg_bytes())
    result = runner.invoke(app, ["ingest", "s3-events", "--once"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        "2 messages, 1 created, 0 duplicate, 0 skipped, 1 ignored (test_event 1), 0 rejected, 0 kept for retry")


@pytest.mark.parametrize("args", [["ingest", "s3-events"], ["ingest", "s3-events", "--once", "--follow"]])
def test_exactly_one_mode(cli_env, queue, args):
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "give exactly one of --once or --follow" in result.stderr


def test_without_a_queue_it_says_which_variable(cli_env):
    result = runner.invoke(app, ["ingest", "s3-events", "--once"])
    assert result.exit_code == 2 and "MODQ_S3_EVENTS_QUEUE_URL is not set" in result.stderr


def test_rejects_table_when_empty(cli_env):
    result = runner.invoke(app, ["ingest", "rejects"])
    assert result.exit_code == 0 and "reason" in result.stdout


def test_follow_prints_each_drain_that_found_messages_and_a_total_on_ctrl_c(cli_env, queue, monkeypatch):
    from moderation.items.ingest import services as ingest_s3

    answers = [ingest_s3.Counts(messages=2, created=2), ingest_s3.Counts(), KeyboardInterrupt()]
    waits = []

    def fake_drain(rt, max_messages=None, wait_seconds=None):
        waits.append(wait_seconds)
        answer = answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    monkeypatch.setattr(ingest_s3, "drain", fake_drain)
    monkeypatch.setattr("moderation.cli.ingest.time.sleep", lambda s: None)
    result = runner.invoke(app, ["ingest", "s3-events", "--follow"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("2 messages, 2 created") and lines[1].startswith("total: 2 messages, 2 created")
    assert len(lines) == 2 and waits == [20, 20, 20]  # long polls of SQS's maximum 20 s


class Clock:
    """--follow's clock: each drain is a long poll that takes ``poll`` seconds."""

    def __init__(self, poll: float):
        self.now, self.poll = 1000.0, poll

    def __call__(self) -> float:
        return self.now


def follow_with(monkeypatch, answers: list, clock: Clock, *args: str):
    from moderation.items.ingest import services as ingest_s3

    def fake_drain(rt, max_messages=None, wait_seconds=None):
        clock.now += clock.poll
        answer = answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    monkeypatch.setattr(ingest_s3, "drain", fake_drain)
    monkeypatch.setattr("moderation.cli.ingest.clock", clock)
    return runner.invoke(app, ["ingest", "s3-events", "--follow", *args])


def test_follow_says_it_is_waiting_after_a_minute_with_no_message(cli_env, queue, monkeypatch):
    from moderation.items.ingest import services as ingest_s3

    empty = ingest_s3.Counts
    answers = [ingest_s3.Counts(messages=3, created=2), empty(), empty(), empty(), empty(), empty(), empty(),
               ingest_s3.Counts(messages=1, created=1), empty(), empty(), KeyboardInterrupt()]
    result = follow_with(monkeypatch, answers, Clock(poll=20), "--json")
    assert result.exit_code == 0, result.output
    # Three empty 20 s polls make a minute: one line each minute of quiet, on stderr (stdout stays JSON lines)
    assert result.stderr.splitlines() == [
        "waiting for S3 events: 0 received in the last 60 s, 3 messages (2 created) in total"] * 2
    assert [json.loads(line)["messages"] for line in result.stdout.splitlines()] == [3, 1]


def test_follow_heartbeat_interval_and_off(cli_env, queue, monkeypatch):
    from moderation.items.ingest import services as ingest_s3

    quiet = [ingest_s3.Counts() for _ in range(4)]
    result = follow_with(monkeypatch, [*quiet, KeyboardInterrupt()], Clock(poll=20), "--heartbeat", "40")
    assert result.stderr.splitlines() == ["waiting for S3 events: 0 received in the last 40 s, 0 messages "
                                          "(0 created) in total"] * 2
    result = follow_with(monkeypatch, [*quiet, KeyboardInterrupt()], Clock(poll=20), "--heartbeat", "0")
    assert result.exit_code == 0 and result.stderr == ""
