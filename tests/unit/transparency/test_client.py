"""The Transparency Database client against the fake server (tests/fakes/transparency_db.py): each answer of the
API becomes one value, redirects are never followed, and the token is sent but never shown."""

from __future__ import annotations

import socket

import pytest

from moderation.transparency import client as tdb
from tests.fakes.transparency_db import FakeTransparencyDatabase
from tests.statement_rows import BAD_CATEGORY, body_for

TOKEN = "s3cret-token-value"
ITEMS = ["3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5a6%d" % i for i in range(5)]


@pytest.fixture
def fake():
    with FakeTransparencyDatabase(token=TOKEN) as server:
        yield server


@pytest.fixture
def client(fake) -> tdb.TransparencyClient:
    return tdb.TransparencyClient(fake.url, TOKEN, timeout=5)


def bodies(n: int) -> list[dict]:
    return [body_for("acme", item) for item in ITEMS[:n]]


def test_a_batch_is_stored_and_each_uuid_is_returned_by_puid(fake, client):
    batch = bodies(3)
    result = client.store_batch(batch)
    assert isinstance(result, tdb.Stored)
    assert set(result.uuids) == {b["puid"] for b in batch} == set(fake.statements)
    assert all(result.uuids[p] == fake.statements[p]["uuid"] for p in result.uuids)


def test_invalid_statements_are_named_by_index_and_nothing_is_stored(fake, client):
    batch = bodies(3)
    batch[1]["category"] = BAD_CATEGORY
    result = client.store_batch(batch)
    assert isinstance(result, tdb.Invalid)
    assert list(result.errors) == [1] and "category" in result.errors[1]
    assert fake.statements == {}


def test_a_duplicate_puid_answer_names_the_puids_already_stored(fake, client):
    batch = bodies(3)
    fake.preload(batch[2]["puid"])
    result = client.store_batch(batch)
    assert result == tdb.Duplicates([batch[2]["puid"]])
    assert set(fake.statements) == {batch[2]["puid"]}  # all or nothing: the other two were not stored


def test_rate_limited_answers_its_retry_after(fake, client):
    fake.rate_limit(1, retry_after=7)
    assert client.store_batch(bodies(1)) == tdb.Throttled(7.0)
    assert isinstance(client.store_batch(bodies(1)), tdb.Stored)  # the next request goes through


def test_an_outage_and_a_dropped_answer_are_unknown(fake, client):
    fake.fail_next(1, status=503)
    assert client.store_batch(bodies(1)) == tdb.Unknown("HTTP 503")
    fake.crash_after_store()
    result = client.store_batch(bodies(2))
    assert isinstance(result, tdb.Unknown) and result.reason.startswith("no answer")
    assert len(fake.statements) == 2  # stored although the client never heard back: why existing-puid exists


def test_nobody_listening_is_unknown():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = tdb.TransparencyClient(f"http://127.0.0.1:{port}", TOKEN, timeout=2).store_batch(bodies(1))
    assert isinstance(result, tdb.Unknown)


def test_a_wrong_token_is_refused_and_not_shown(fake):
    result = tdb.TransparencyClient(fake.url, "wrong", timeout=5).store_batch(bodies(1))
    assert isinstance(result, tdb.Refused) and result.status == 401
    assert "wrong" not in result.reason and fake.statements == {}
    assert TOKEN not in repr(tdb.TransparencyClient(fake.url, TOKEN, timeout=5))


def test_exists_reads_the_302_without_following_it(fake, client):
    [body] = bodies(1)
    assert client.exists(body["puid"]) is False
    fake.preload(body["puid"])
    assert client.exists(body["puid"]) is True
    assert [r["path"] for r in fake.requests] == [f"/api/v1/statement/existing-puid/{body['puid']}"] * 2


def test_exists_on_a_wrong_base_url_is_no_answer_about_the_puid(fake):
    """A 404 of an unknown route (a wrong MODQ_DSA_TDB_URL) must not read as "not stored"."""
    wrong = tdb.TransparencyClient(fake.url + "/nope", TOKEN, timeout=5)
    result = wrong.exists("acme_x_1")
    assert isinstance(result, tdb.Refused) and result.status == 404


def test_exists_during_an_outage_is_unknown(fake, client):
    fake.fail_next(1, status=502)
    assert client.exists("acme_x_1") == tdb.Unknown("HTTP 502")


def test_a_redirect_is_refused_not_followed(fake, client):
    """Without Accept: application/json Laravel redirects a validation failure; this client sends it, and
    a redirect from anywhere else is a failure, never followed to another host with the token."""
    fake.fail_next(1, status=301, body="moved", headers={"Location": f"{fake.url}/elsewhere"})
    result = client.store_batch(bodies(1))
    assert isinstance(result, tdb.Refused) and "redirects are not followed" in result.reason
    assert [r["path"] for r in fake.requests] == ["/api/v1/statements"]  # /elsewhere never asked


def test_a_2xx_that_is_not_the_apis_answer_may_have_stored_them(fake, client):
    """A proxy's 200 (or a 201 without the statements) says nothing sure: the batch is looked up, not resent."""
    fake.fail_next(1, status=200, body="<html>ok</html>")
    assert isinstance(client.store_batch(bodies(1)), tdb.Unknown)


def test_retry_after_that_is_not_seconds_waits_the_default():
    assert tdb._retry_after("Wed, 21 Oct 2026 07:28:00 GMT") == 60.0
    assert tdb._retry_after("3") == 3.0
