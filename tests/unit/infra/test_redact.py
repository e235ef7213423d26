"""Credentials inside logged values are scrubbed (moderation/infra/redact.py, wired in moderation/infra/logs.py)."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from moderation.infra import logs
from moderation.infra.redact import Scrubber, secret_values

SIGV4 = ("https://ugc.s3.amazonaws.com/u/1.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE0000000001"
         "%2F20261122%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261122T043120Z&X-Amz-Expires=3600"
         "&X-Amz-SignedHeaders=host&X-Amz-Security-Token=IQoJtoken&X-Amz-Signature=" + "a1" * 32)
SIGV2 = "https://ugc.s3.amazonaws.com/u/1.jpg?AWSAccessKeyId=AKIAEXAMPLE0000000001&Signature=DxrV3hN%3D&Expires=179"
AUTH = ("Authorization: AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE0000000001/20261122/us-east-1/rekognition/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "0f" * 32)


@pytest.mark.parametrize("text, kept, gone", [
    (SIGV4, ["X-Amz-Signature=[redacted]", "X-Amz-Date=20261122T043120Z", "/u/1.jpg"],
     ["a1a1", "AKIAEXAMPLE", "IQoJtoken"]),
    (SIGV2, ["Signature=[redacted]", "AWSAccessKeyId=[redacted]", "Expires=179"], ["DxrV3hN", "AKIAEXAMPLE"]),
    (AUTH, ["Signature=[redacted]", "Credential=[redacted]/20261122"], ["0f0f", "AKIAEXAMPLE"]),
    ("postgresql://modq:hunter2hunter2@db:5432/modq", ["postgresql://modq:[redacted]@db:5432/modq"], ["hunter2"]),
    ("redis://:s3cr3t@redis:6379/0", ["redis://:[redacted]@redis:6379/0"], ["s3cr3t"]),
    ("s3://bucket/key.jpg?versionId=3HL4kqtJlcpXroDTDmJ", ["s3://bucket/key.jpg?versionId=3HL4kqtJlcpXroDTDmJ"], []),
])
def test_patterns(text, kept, gone):
    scrubbed = Scrubber(secrets=[]).text(text)
    assert all(k in scrubbed for k in kept), scrubbed
    assert not any(g in scrubbed for g in gone), scrubbed


def test_secret_environment_values_are_replaced_wherever_they_appear():
    env = {"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY", "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEXAMPLE",
           "MODQ_API_TOKEN_PEPPER": "pepper-pepper-pepper", "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE0000000001",
           "AWS_REGION": "us-east-1", "MODQ_SECRET_SHORT": "testing"}
    secrets = secret_values(env)
    assert set(secrets) == {env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"], env["MODQ_API_TOKEN_PEPPER"]}
    scrub = Scrubber(secrets)
    event = {"event": "boom", "error": f"bad key {env['AWS_SECRET_ACCESS_KEY']}",
             "nested": {"list": [env["AWS_SESSION_TOKEN"], 3]}, "_record": object()}
    out = scrub(None, "error", dict(event))
    assert out["error"] == "bad key [redacted]" and out["nested"] == {"list": ["[redacted]", 3]}
    assert out["_record"] is event["_record"]


def test_logged_values_and_tracebacks_are_scrubbed(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY")
    stream = io.StringIO()
    logs.configure("json", "INFO", stream=stream)
    log = structlog.get_logger("t")
    log.warning("alert", alert={"external_id": SIGV4})
    try:
        raise RuntimeError("could not fetch " + SIGV2)
    except RuntimeError:
        log.exception("fetch_failed")
    logging.getLogger("celery.worker").error("secret in a library line: wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY")
    out = stream.getvalue()
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["event"] for line in lines][:2] == ["alert", "fetch_failed"]
    assert "X-Amz-Signature=[redacted]" in out and "Signature=[redacted]" in lines[1]["exception"]
    for secret in ("a1a1a1", "DxrV3hN", "wJalrXUtnFEMI", "AKIAEXAMPLE"):
        assert secret not in out


def test_botocore_stays_quiet_at_debug():
    """botocore's DEBUG lines carry Authorization headers and session tokens."""
    logs.configure("json", "DEBUG", stream=io.StringIO())
    assert logging.getLogger("botocore").getEffectiveLevel() == logging.WARNING
