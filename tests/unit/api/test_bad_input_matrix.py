"""Bad input matrix, API rows: the request, the status and the exact message.

The submit and configuration rows are in tests/unit/test_bad_input_matrix.py.
Every refusal is a 4xx with a ``message`` a person can act on, and stores nothing.
"""

from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import func, select

from moderation.items import services as service
from moderation.items import models as m
from moderation.infra.db import transaction
from moderation.policy.models import PolicyActivation
from moderation.tenants import services as tenant_services
from tests.conftest import jpeg_bytes

ROOT = "<root>"  # replaced by the test's media root
POLICY = "min_confidence: 50\ndefault: {flag: 80, reject: null}\n"
BIG = b'{"external_id": "x", "media_uri": "' + b"a" * 70_000 + b'"}'

CASES = [
    # (role, method, path, json body or raw bytes, status, exact message)
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "../a.jpg"}, 422,
     "path '../a.jpg' contains '..'; give a path inside the media root"),
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "ftp://h/a.jpg"}, 422,
     "unsupported URI scheme 'ftp' in 'ftp://h/a.jpg': use s3://bucket/key, file:///path or a path under the media root"),
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "missing.jpg"}, 422,
     f"no such file under the media root '{ROOT}' (MODQ_MEDIA_ROOT): 'missing.jpg'"),
    # Issue 12.8: nothing after "#" or "?" and no "//" is dropped; IP-formatted buckets are not buckets.
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "s3://ugc-uploads/key.jpg#frag"}, 422,
     "S3 URI 's3://ugc-uploads/key.jpg#frag' contains '#': an S3 URI takes no fragment; write a '#' that is part "
     "of the key as %23"),
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "s3://ugc-uploads//key.jpg"}, 422,
     "S3 URI 's3://ugc-uploads//key.jpg' has an empty key segment ('//' or a '/' at either end of the key): write "
     "a '/' that is part of the key as %2F"),
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "file:///srv/media/a.jpg?x=../../b"}, 422,
     "file URI 'file:///srv/media/a.jpg?x=../../b' contains '?': a file URI takes no query; write a '?' that is "
     "part of the file name as %3F"),
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "a.jpg?x=1"}, 422,
     "path 'a.jpg?x=1' contains '?': it would read as a URI query; for a file name with '?' in it, give its "
     "file:// URI with %3F"),
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "s3://127.0.0.1/x.jpg"}, 422,
     "invalid S3 bucket name '127.0.0.1' in 's3://127.0.0.1/x.jpg': bucket names are not formatted as an IP address"),
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "s3://169.254.169.254/x.jpg"}, 422,
     "invalid S3 bucket name '169.254.169.254' in 's3://169.254.169.254/x.jpg': bucket names are not formatted as "
     "an IP address"),
    # Issue 12.9: what the OS refuses about a path is a 422 saying so, never a 500 (files: media_files below).
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "loop.jpg"}, 422,
     "path 'loop.jpg' is not usable: it is a symlink loop (too many levels of symbolic links)"),
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "a.jpg/b.jpg"}, 422,
     "path 'a.jpg/b.jpg' is not usable: a part of it that should be a directory is a file"),
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "albums"}, 422,
     "path 'albums' is not usable: it is a directory, not a file"),
    ("ingest", "POST", "/v1/items", {"media_uri": "a.jpg"}, 422, "external_id: Field required"),
    ("ingest", "POST", "/v1/items", {"external_id": "x"}, 422, "media_uri: Field required"),
    ("ingest", "POST", "/v1/items", {"external_id": "", "media_uri": "a.jpg"}, 422,
     "external_id: String should have at least 1 character"),
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "a.jpg", "media_type": "audio"}, 422,
     "media_type: Input should be 'image' or 'video'"),
    ("ingest", "POST", "/v1/items", b"{not json", 422,
     "the request body is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ("ingest", "POST", "/v1/items", b"[]", 422,
     "the request body is an array, not a JSON object: send a JSON object, with Content-Type: application/json"),
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
    # Issue 16.4: a subject id is 1-255 printable characters; another tenant's subject is no business of the token.
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "a.jpg", "subject_id": "u" * 256}, 422,
     "subject_id: String should have at most 255 characters"),
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "a.jpg", "subject_id": ""}, 422,
     "subject_id: String should have at least 1 character"),
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "a.jpg", "subject_id": "user\x07"}, 422,
     "subject_id: Value error, must not contain control characters"),
    ("ingest", "POST", "/v1/items", {"external_id": "x", "media_uri": "a.jpg", "subject_id": 42}, 422,
     "subject_id: Input should be a valid string"),
    ("reviewer", "GET", "/v1/subjects/" + "u" * 256, None, 422, "path.subject_id: String should have at most 255 "
                                                                 "characters"),
    ("reviewer", "GET", "/v1/subjects/user%07", None, 422, "path.subject_id: Value error, must not contain control "
                                                           "characters"),
    ("reviewer", "GET", "/v1/subjects/user-1?tenant=other", None, 422,
     "tenant: no tenant named 'other' that this token acts for"),
    ("ingest", "GET", "/v1/subjects/user-1", None, 403, "the ingest role may not do this (needs reviewer or senior or admin)"),
    # Issue 16: a tenant the token does not act for is refused as an unknown one ("other" exists: media_files).
    ("ingest", "POST", "/v1/items?tenant=other", {"external_id": "x", "media_uri": "a.jpg"}, 422,
     "tenant: no tenant named 'other' that this token acts for"),
    ("ingest", "POST", "/v1/items?tenant=nowhere", {"external_id": "x", "media_uri": "a.jpg"}, 422,
     "tenant: no tenant named 'nowhere' that this token acts for"),
    ("admin", "POST", "/v1/items/batch?tenant=other", {"items": [{"external_id": "x", "media_uri": "a.jpg"}]}, 422,
     "tenant: no tenant named 'other' that this token acts for"),
    ("admin", "POST", "/v1/items?tenant=Bad!", {"external_id": "x", "media_uri": "a.jpg"}, 422,
     "tenant: 'Bad!' is not a tenant name (1-63 of a-z, 0-9, '-', '_'; starting with a letter or digit)"),
    ("ingest", "POST", "/v1/items?tenant=" + "t" * 64, {"external_id": "x", "media_uri": "a.jpg"}, 422,
     "query.tenant: String should have at most 63 characters"),
    ("reviewer", "GET", "/v1/items?tenant=other", None, 422, "tenant: no tenant named 'other' that this token acts for"),
    ("reviewer", "GET", "/v1/items/x?tenant=other", None, 422,
     "tenant: no tenant named 'other' that this token acts for"),
    ("reviewer", "GET", "/v1/audit?tenant=other", None, 422, "tenant: no tenant named 'other' that this token acts for"),
    ("admin", "POST", "/v1/bank?tenant=other", {"content_key": "a" * 64, "verdict": "rejected"}, 422,
     "tenant: no tenant named 'other' that this token acts for"),
    ("reviewer", "GET", "/v1/review/queue?tenant=other", None, 422,
     "tenant: no tenant named 'other' that this token acts for"),
    ("reviewer", "POST", "/v1/review/claim?tenant=nowhere", {}, 422,
     "tenant: no tenant named 'nowhere' that this token acts for"),
    # Issue 17.1: keyset pages of the review queue.
    ("reviewer", "GET", "/v1/review/queue?after=garbage", None, 422,
     "after: not a cursor of the review queue (pass the `next` of the page before, unchanged)"),
    ("reviewer", "GET", "/v1/review/queue?after=" + "x" * 201, None, 422,
     "query.after: String should have at most 200 characters"),
    ("reviewer", "GET", "/v1/review/queue?offset=50&after=WzEsIjIwMjYtMTEtMzBUMDk6MDA6MDArMDA6MDAiLCJhIl0", None,
     422, "after: give after or offset, not both (offset is deprecated)"),
    # Issue 17.7: appeals. The statement and appellant are checked before the item is looked up.
    ("ingest", "POST", "/v1/items/x/appeals", {"statement": ""}, 422,
     "statement: String should have at least 1 character"),
    ("ingest", "POST", "/v1/items/x/appeals", {"statement": "   "}, 422,
     "statement: String should match pattern '\\S'"),
    ("ingest", "POST", "/v1/items/x/appeals", {"statement": "s" * 5001}, 422,
     "statement: String should have at most 5000 characters"),
    ("ingest", "POST", "/v1/items/x/appeals", {"statement": "unfair\x1b[2J"}, 422,
     "statement: must not contain control characters (newlines and tabs are allowed)"),
    ("ingest", "POST", "/v1/items/x/appeals", {"statement": "unfair\x00"}, 422,
     "statement: Value error, must not contain NUL characters"),
    ("ingest", "POST", "/v1/items/x/appeals", {"statement": "unfair", "appellant": "u" * 256}, 422,
     "appellant: String should have at most 255 characters"),
    ("ingest", "POST", "/v1/items/x/appeals", {"statement": "unfair", "appellant": "user\x07"}, 422,
     "appellant: must not contain control characters"),
    ("ingest", "POST", "/v1/items/x/appeals", {"appellant": "user-1"}, 422, "statement: Field required"),
    ("reviewer", "POST", "/v1/appeals/x/decision", {"outcome": "reversed", "reason": "x"}, 422,
     "outcome: Input should be 'upheld' or 'overturned'"),
    ("reviewer", "POST", "/v1/appeals/x/decision", {"outcome": "overturned", "reason": "x"}, 422,
     "verdict: an overturned appeal needs the new verdict, one of approved, rejected"),
    ("reviewer", "POST", "/v1/review/claim", {"queue": "senior-appeals"}, 422,
     "queue: Input should be 'items', 'appeals' or 'escalated'"),
    # Issue 17.6: escalation and reason codes
    ("reviewer", "POST", "/v1/items/x/escalate", {}, 422, "note: Field required"),
    ("reviewer", "POST", "/v1/items/x/escalate", {"note": "x" * 1001}, 422, "note: String should have at most 1000 characters"),
    ("reviewer", "POST", "/v1/items/x/review", {"verdict": "approved", "reason": "x", "reason_code": "Bad Code"},
     422, "reason_code: String should match pattern '^[a-z0-9]+(-[a-z0-9]+)*$'"),
    # Issue 16.2: policy per tenant. The admin here acts for "default" only: another tenant's policy is not
    # found (404, as an unknown one), and the deployment's policy is for a token for every tenant.
    ("admin", "PUT", "/v1/policy?tenant=other", {"yaml": POLICY}, 404,
     "tenant: no tenant named 'other' that this token acts for"),
    ("admin", "PUT", "/v1/policy?tenant=nowhere", {"yaml": POLICY}, 404,
     "tenant: no tenant named 'nowhere' that this token acts for"),
    ("admin", "GET", "/v1/policy?tenant=other", None, 404, "tenant: no tenant named 'other' that this token acts for"),
    ("admin", "GET", "/v1/policy/curves?tenant=other", None, 404,
     "tenant: no tenant named 'other' that this token acts for"),
    ("admin", "GET", "/v1/policy/curves?tenant=" + "t" * 64, None, 422,
     "query.tenant: String should have at most 63 characters"),
    ("admin", "PUT", "/v1/policy?tenant=Bad!", {"yaml": POLICY}, 422,
     "tenant: 'Bad!' is not a tenant name (1-63 of a-z, 0-9, '-', '_'; starting with a letter or digit)"),
    ("admin", "PUT", "/v1/policy", {"yaml": POLICY}, 403,
     "tenant: only an admin token for every tenant ('*') may change the deployment's policy; give ?tenant=NAME to "
     "change one tenant's"),
]


@pytest.fixture(autouse=True)
def media_files(media_root, rt):
    """A good file, a symlink loop and a directory in the media root; a tenant "other" the tokens are not for."""
    tenant_services.create(rt.settings.database_url, "other", "test")
    (media_root / "a.jpg").write_bytes(jpeg_bytes())
    os.symlink("loop.jpg", media_root / "loop.jpg")
    (media_root / "albums").mkdir()


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
    assert response.json()["message"] == message.replace(ROOT, os.path.realpath(rt.settings.media_root))
    with transaction(rt.settings.database_url) as s:
        assert s.scalar(select(func.count()).select_from(m.Item)) == 0
        assert s.scalar(select(func.count()).select_from(PolicyActivation)) == 0


def _loop(path):
    path.unlink()
    os.symlink(path.name, path)


def _directory(path):
    path.unlink()
    path.mkdir()


def _parent_a_file(path):
    shutil.rmtree(path.parent)
    path.parent.write_bytes(b"not a directory")


@pytest.mark.parametrize("swap, reason", [
    (_loop, "it is a symlink loop (too many levels of symbolic links)"),
    (_directory, "it is a directory, not a file"),
    (_parent_a_file, "a part of it that should be a directory is a file"),
])
def test_media_whose_file_the_os_will_not_read_any_more(client, auth, rt, media_root, swap, reason):
    """GET /v1/items/{id}/media of a file swapped after submit: 422 with the reason (no path), not a 500."""
    (media_root / "in").mkdir()
    (media_root / "in" / "b.jpg").write_bytes(jpeg_bytes())
    item_id = service.submit("in/b.jpg", rt=rt).item_id
    swap(media_root / "in" / "b.jpg")
    response = client.get(f"/v1/items/{item_id}/media", headers=auth["reviewer"])
    expected = f"this item's media cannot be served: {reason}"
    assert (response.status_code, response.json()["message"]) == (422, expected)
    with transaction(rt.settings.database_url) as s:  # reading changes nothing
        assert [(i.id, i.status) for i in s.scalars(select(m.Item))] == [(item_id, m.QUEUED)]
