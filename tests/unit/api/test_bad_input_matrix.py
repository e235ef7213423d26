"""Bad input matrix, API rows: the request, the status and the exact message.

The submit and configuration rows are in tests/unit/test_bad_input_matrix.py.
Every refusal is a 4xx with a ``message`` a person can act on, and stores nothing.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from moderation.store import models as m
from moderation.store.db import transaction

BIG = b'{"external_id": "x", "media_uri": "' + b"a" * 70_000 + b'"}'

CASES = [
    # (role, method, path, json body or raw bytes, status, exact message)
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "../a.jpg"}, 422,
     "path '../a.jpg' contains '..'; give a path inside the media root"),
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "ftp://h/a.jpg"}, 422,
     "unsupported URI scheme 'ftp' in 'ftp://h/a.jpg': use s3://bucket/key, file:///path or a path under the media root"),
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "missing.jpg"}, 422,
     "no such file under the media root: 'missing.jpg'"),
    ("ingest", "POST", "/v1/items", {"media_uri": "a.jpg"}, 422, "external_id: Field required"),
    ("ingest", "POST", "/v1/items", {"external_id": "x"}, 422, "media_uri: Field required"),
    ("ingest", "POST", "/v1/items", {"external_id": "", "media_uri": "a.jpg"}, 422,
     "external_id: String should have at least 1 character"),
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "a.jpg", "media_type": "audio"}, 422,
     "media_type: Input should be 'image' or 'video'"),
    ("ingest", "POST", "/v1/items", b"{not json", 422, "1: JSON decode error"),
    ("ingest", "POST", "/v1/items", BIG, 413,
     "request body is over the limit of 65536 bytes (MODQ_API_MAX_BODY_BYTES)"),
    ("ingest", "GET", "/v1/items?limit=0", None, 422, "query.limit: Input should be greater than or equal to 1"),
    ("reviewer", "GET", "/v1/review/queue?min_age=-5", None, 422,
     "query.min_age: Input should be greater than or equal to 0"),
    ("admin", "POST", "/v1/items/abc/review", {"verdict": "maybe", "reason": "x"}, 422,
     "verdict: Input should be 'approved' or 'rejected'"),
    ("reviewer", "POST", "/v1/review/claim", {"lease_seconds": 86400}, 422,
     "lease_seconds 86400 is over the limit of 3600 seconds (MODQ_REVIEW_MAX_LEASE_SECONDS)"),
    ("reviewer", "POST", "/v1/review/claim", {"lease_seconds": 5}, 422,
     "lease_seconds: Input should be greater than or equal to 10"),
    (None, "GET", "/v1/items", None, 401, "a valid bearer token is required (missing, unknown or revoked)"),
]


@pytest.mark.parametrize("role, method, path, body, status, message", CASES,
                         ids=[f"{c[1]} {c[2][:30]} -> {c[4]}" for c in CASES])
def test_api_bad_input(client, auth, rt, role, method, path, body, status, message):
    headers = dict(auth[role]) if role else {}
    kwargs = {"json": body} if isinstance(body, dict) else {}
    if isinstance(body, bytes):
        kwargs = {"content": body}
        headers["content-type"] = "application/json"
    response = client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == status
    assert response.json()["message"] == message
    with transaction(rt.settings.database_url) as s:
        assert s.scalar(select(func.count()).select_from(m.Item)) == 0
