"""`schemathesis run` against the live API and its own OpenAPI schema, on
PostgreSQL: whatever a client sends, valid or not, never a server error.

All of schemathesis' phases run (examples, coverage, fuzzing, stateful: claim
then review through the links it infers). Random generation rarely produces
the inputs PostgreSQL refuses (NUL characters, NaN in JSON), so those are
also sent explicitly, to every operation, in the second test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from config.settings import Settings
from moderation.tenants import tokens
from moderation.api.app import create_app
from tests.conftest import REPO
from tests.integration.fresh_pg import fresh_database
from tests.live_server import serve
from tests.review_items import decided_item

pytestmark = pytest.mark.integration
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="module")
def fuzz_pg_url():
    with fresh_database("modq_fuzz") as url:
        yield url


@pytest.fixture
def pg_app(rt, fuzz_pg_url, media_root, fake_provider):
    rt.settings = Settings(database_url=fuzz_pg_url, media_root=media_root)  # the unit-test runtime, on PostgreSQL
    for label, confidence in (("Hate Symbols", 70), ("Graphic Violence", 60), ("Exposed Female Genitalia", 99)):
        decided_item(rt, media_root, fake_provider, label, confidence)
    token = tokens.create(fuzz_pg_url, "fuzzer", "admin", created_by="test")[1]
    return create_app(rt, health_checks={}), {"Authorization": f"Bearer {token}"}


def test_schemathesis_run_finds_no_server_error(pg_app, tmp_path):
    app, headers = pg_app
    reports = ARTIFACTS / "schemathesis"
    shutil.rmtree(reports, ignore_errors=True)
    # One worker: several threads make CPython 3.11's ast module (used by
    # Hypothesis to describe strategies) fail with a SystemError.
    with serve(app) as base_url:
        command = [sys.executable, "-m", "schemathesis.cli", "run", f"{base_url}/openapi.json",
                   "--header", f"Authorization: {headers['Authorization']}", "--checks", "not_a_server_error",
                   "--max-examples", "40", "--generation-deterministic", "--no-color",
                   "--report", "junit", "--report-dir", str(reports)]
        # cwd: schemathesis' caches stay out of the repository
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert "generated" in result.stdout and "failed" not in result.stdout.split("SUMMARY")[-1]


HOSTILE = ["a\x00b", "\ud800", "\x00", "x" * 5000, "' OR 1=1 --", "../../etc/passwd", "%00"]


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_hostile_strings_reach_no_query_unchecked(pg_app, value):
    app, headers = pg_app
    q = quote(value.encode("utf-8", "surrogatepass"), safe="")  # a URL cannot carry it raw
    json_headers = {**headers, "Content-Type": "application/json"}
    with TestClient(app, raise_server_exceptions=False) as client:
        def post(path, body=None):  # json.dumps escapes what httpx would refuse to encode
            return client.post(path, content=json.dumps(body).encode() if body is not None else None,
                               headers=json_headers)

        responses = [
            post("/v1/items", {"external_id": value, "media_uri": "s3://bucket/x.jpg"}),
            post("/v1/items", {"external_id": "e", "media_uri": value}),
            post("/v1/items", {"external_id": "m", "media_uri": "s3://bucket/x.jpg", "metadata": {value: [value]}}),
            post("/v1/items/batch", {"items": [{"external_id": value, "media_uri": "s3://bucket/x.jpg"},
                                               {"external_id": "be", "media_uri": value}, value,
                                               {"external_id": "bm", "media_uri": "s3://bucket/x.jpg",
                                                "metadata": {value: [value]}}]}),
            client.get(f"/v1/items?external_id={q}", headers=headers),
            client.get(f"/v1/items/{q}", headers=headers),
            client.get(f"/v1/items/{q}/media", headers=headers),
            client.get(f"/v1/review/queue?label={q}", headers=headers),
            post("/v1/review/claim", {"label": value, "skip": value}),
            post(f"/v1/items/{q}/review", {"verdict": "approved", "reason": value}),
            post(f"/v1/items/{q}/release"),
            client.get(f"/v1/audit?item_id={q}&actor={q}&action={q}", headers=headers),
        ]
    assert [r.status_code for r in responses if r.status_code >= 500] == []


@pytest.mark.parametrize("uri", ["file:///a%00b.jpg", "s3://bucket/a%00b", "s3://bucket/k?versionId=%00",
                                 "a" * 300 + ".jpg", "file:///%0a.jpg", "s3://bucket/%ff"])
def test_hostile_media_uris_are_refused(pg_app, uri):
    app, headers = pg_app
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/v1/items", json={"external_id": f"u-{uri[:20]}", "media_uri": uri}, headers=headers)
    assert response.status_code in (202, 422), response.text


@pytest.mark.parametrize("raw", [b'{"external_id":"n","media_uri":"s3://bucket/x.jpg","metadata":{"x":NaN}}',
                                 b'{"external_id":"n","media_uri":"s3://bucket/x.jpg","metadata":{"x":1e400}}',
                                 b'{"external_id":"n","media_uri":"s3://bucket/x.jpg","metadata":{"x":'
                                 + b"9" * 4000 + b"}}",
                                 b'{"external_id":"n","media_uri":"s3://bucket/x.jpg","metadata":{"x":"\\u0000"}}'])
def test_hostile_json_numbers_and_escapes(pg_app, raw):
    app, headers = pg_app
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/v1/items", content=raw, headers={**headers, "Content-Type": "application/json"})
        batch = client.post("/v1/items/batch", content=b'{"items": [' + raw + b"]}",
                            headers={**headers, "Content-Type": "application/json"})
    assert response.status_code < 500, response.text
    assert batch.status_code < 500 and "error" in batch.text, batch.text


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1970-01-01"])
def test_audit_dates_at_the_edges(pg_app, when):
    app, headers = pg_app
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/v1/audit", params={"since": when, "until": when}, headers=headers).status_code < 500


def test_artifacts_dir_is_ignored_by_git():
    assert "/test-artifacts/" in Path(REPO / ".gitignore").read_text()
