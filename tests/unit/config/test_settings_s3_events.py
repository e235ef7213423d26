"""Settings of S3 upload ingestion (MODQ_S3_EVENTS_*): defaults, parsing, and errors that name the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from config.settings import load_settings
from tests.settings_cases import assert_refused

QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/modq-uploads"


def test_off_by_default():
    s = load_settings()
    assert s.s3_events_queue_url is None and s.s3_events_bucket_allowlist is None
    assert s.s3_events_prefix_list == () and s.s3_events_suffix_list == () and s.s3_events_max_object_bytes is None
    assert (s.s3_events_interval_seconds, s.s3_events_wait_seconds, s.s3_events_max_messages) == (10.0, 1, 500)


def test_lists_are_parsed(monkeypatch):
    monkeypatch.setenv("MODQ_S3_EVENTS_QUEUE_URL", QUEUE)
    monkeypatch.setenv("MODQ_S3_EVENTS_BUCKETS", " ugc-a , ugc-b,")
    monkeypatch.setenv("MODQ_S3_EVENTS_PREFIXES", "uploads/,inbox/")
    monkeypatch.setenv("MODQ_S3_EVENTS_SUFFIXES", ".JPG, .png")
    monkeypatch.setenv("MODQ_S3_EVENTS_MAX_OBJECT_BYTES", "20000000")
    s = load_settings()
    assert s.s3_events_queue_url == QUEUE and s.s3_events_bucket_allowlist == frozenset({"ugc-a", "ugc-b"})
    assert s.s3_events_prefix_list == ("uploads/", "inbox/") and s.s3_events_suffix_list == (".jpg", ".png")
    assert s.s3_events_max_object_bytes == 20_000_000


def test_the_bucket_allow_list_falls_back_to_modq_s3_buckets(monkeypatch):
    monkeypatch.setenv("MODQ_S3_BUCKETS", "ugc-a,ugc-b")
    assert load_settings().s3_events_bucket_allowlist == frozenset({"ugc-a", "ugc-b"})
    monkeypatch.setenv("MODQ_S3_EVENTS_BUCKETS", "ugc-b")  # a narrower list for events
    assert load_settings().s3_events_bucket_allowlist == frozenset({"ugc-b"})


@pytest.mark.parametrize("url", ["http://127.0.0.1:5000/123456789012/q", QUEUE, QUEUE + ".fifo", ""])
def test_queue_urls_accepted(monkeypatch, url):
    monkeypatch.setenv("MODQ_S3_EVENTS_QUEUE_URL", url)
    assert load_settings().s3_events_queue_url == (url or None)


@pytest.mark.parametrize("env, message", [
    ({"MODQ_S3_EVENTS_QUEUE_URL": "arn:aws:sqs:eu-west-1:123456789012:modq-uploads"},
     "MODQ_S3_EVENTS_QUEUE_URL: Value error, not an SQS queue URL"),
    ({"MODQ_S3_EVENTS_QUEUE_URL": "modq-uploads"}, "MODQ_S3_EVENTS_QUEUE_URL: Value error, not an SQS queue URL"),
    ({"MODQ_S3_EVENTS_BUCKETS": "Bad_Bucket"}, "MODQ_S3_EVENTS_BUCKETS: 'Bad_Bucket' is not an S3 bucket name"),
    ({"MODQ_S3_BUCKETS": "ugc-a", "MODQ_S3_EVENTS_BUCKETS": "ugc-a,ugc-z"},
     "MODQ_S3_EVENTS_BUCKETS names buckets missing from MODQ_S3_BUCKETS: ugc-z"),
    ({"MODQ_S3_EVENTS_MAX_OBJECT_BYTES": "0"}, "MODQ_S3_EVENTS_MAX_OBJECT_BYTES"),
    ({"MODQ_S3_EVENTS_WAIT_SECONDS": "21"}, "MODQ_S3_EVENTS_WAIT_SECONDS"),
    ({"MODQ_S3_EVENTS_INTERVAL_SECONDS": "0"}, "MODQ_S3_EVENTS_INTERVAL_SECONDS"),
    ({"MODQ_S3_EVENTS_MAX_MESSAGES": "0"}, "MODQ_S3_EVENTS_MAX_MESSAGES"),
])
def test_bad_values_are_named(monkeypatch, env, message):
    assert_refused(monkeypatch, env, message)


def test_beat_drains_the_queue_only_when_it_is_set():
    code = "from worker.app import app; print(sorted(app.conf.beat_schedule))"  # a fresh process reads the env
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODQ_S3_EVENTS")}
    off = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    on = subprocess.run([sys.executable, "-c", code], env={**env, "MODQ_S3_EVENTS_QUEUE_URL": QUEUE},
                        capture_output=True, text=True, check=True).stdout
    assert "ingest-s3-events" not in off and "ingest-s3-events" in on
