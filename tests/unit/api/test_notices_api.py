"""POST /v1/notices (issue 18.4) over HTTP, and the issue's "done when": a trusted flagger's notice and an
ordinary user's, the trusted one reviewed first, the notice.decided events, and each statement's source_type."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from moderation.alerts.events import event_of
from moderation.alerts.models import Alert
from moderation.domain import policy
from moderation.domain.statements import NOT_AUTOMATED
from moderation.infra.db import transaction
from moderation.items import models as m, services as items
from moderation.tenants import services as tenants
from moderation.transparency.models import Notice
from tests.conftest import jpeg_bytes

IWF = "Internet Watch Foundation"
USER = {"explanation": "A swastika flag, posted to harass.", "notifier_name": "A. User",
        "notifier_email": "a.user@example.org", "good_faith": True}


@pytest.fixture(autouse=True)
def trusted_flaggers(rt):
    rt.policy = policy.parse(Path(rt.settings.thresholds).read_text()
                             + f"\ntransparency:\n  trusted_flaggers: [\"{IWF}\"]\n")


@pytest.fixture
def approved(flagged):
    """An item approved automatically (nothing detected), by external id."""
    return lambda external_id: flagged(None, external_id=external_id)


def stored(rt) -> tuple[int, int]:
    with transaction(rt.settings.database_url) as s:
        return s.scalar(select(func.count()).select_from(Notice)), s.scalar(select(func.count()).select_from(m.Item))


def notice_events(rt) -> list[Alert]:
    with transaction(rt.settings.database_url) as s:
        rows = list(s.scalars(select(Alert).where(Alert.kind == "notice").order_by(Alert.id)))
        s.expunge_all()
        return rows


def test_a_trusted_flaggers_notice_is_reviewed_first_and_each_statement_names_its_source(client, auth, rt, approved):
    ordinary, trusted = approved("post-older"), approved("post-newer")  # the ordinary one is the older
    filed = client.post("/v1/notices", json={**USER, "external_id": "post-older"}, headers=auth["ingest"])
    assert filed.status_code == 201, filed.text
    assert filed.json() == {"id": filed.json()["id"], "item_id": ordinary, "state": "open", "grouped_with": 1,
                            "item_status": "flagged"}
    by_flagger = client.post("/v1/notices", headers=auth["ingest"], json={
        "external_id": "post-newer", "explanation": "Terrorist propaganda.", "notifier_name": IWF,
        "notifier_email": "reports@iwf.example", "good_faith": True, "trusted_flagger": True})
    assert by_flagger.status_code == 201, by_flagger.text

    queue = client.get("/v1/review/queue", params={"source": "notice"}, headers=auth["reviewer"]).json()
    assert [row["id"] for row in queue["items"]] == [trusted, ordinary]
    for expected in (trusted, ordinary):
        claimed = client.post("/v1/review/claim", json={"source": "notice"}, headers=auth["reviewer"])
        assert claimed.json()["item"]["id"] == expected
        decided = client.post(f"/v1/items/{expected}/review", headers=auth["reviewer"],
                              json={"verdict": "rejected", "reason": "Confirmed the notice."})
        assert decided.status_code == 200, decided.text
    assert client.post("/v1/review/claim", json={"source": "notice"}, headers=auth["reviewer"]).status_code == 204

    events = notice_events(rt)
    assert {event_of(e.kind) for e in events} == {"notice.decided"}
    assert [(e.message["item_id"], e.message["decision"], e.message["automated"]) for e in events] == [
        (trusted, "rejected", False), (ordinary, "rejected", False)]
    assert all("alice" not in str(e.message) and "@" not in str(e.message) for e in events)
    for item_id, source in ((trusted, "SOURCE_TRUSTED_FLAGGER"), (ordinary, "SOURCE_ARTICLE_16")):
        answer = client.get(f"/v1/items/{item_id}/statement", headers=auth["ingest"])
        assert answer.status_code == 200, answer.text
        statement = answer.json()["statement"]
        assert (statement["source_type"], statement["automated_decision"]) == (source, NOT_AUTOMATED)
        assert statement["automated_detection"] == "No"


def test_a_notice_by_media_uri_submits_the_item(client, auth, rt, media_root):
    (media_root / "reported.jpg").write_bytes(jpeg_bytes(width=222))
    answer = client.post("/v1/notices", json={**USER, "media_uri": "reported.jpg", "external_id": "post-9"},
                         headers=auth["admin"])
    assert answer.status_code == 201, answer.text
    assert answer.json()["item_status"] == "queued" and stored(rt) == (1, 1)
    item = client.get("/v1/items/post-9", headers=auth["ingest"]).json()
    assert item["id"] == answer.json()["item_id"]


@pytest.mark.parametrize("change, message", [
    ({"good_faith": None}, "good_faith"),
    ({"good_faith": False}, "good_faith: the notifier must confirm the notice is made in good faith (true)"),
    ({"good_faith": "yes"}, "good_faith"),
    ({"notifier_email": None}, "notifier_email: required (Art. 16(2)(c) DSA)"),
    ({"trusted_flagger": True}, "trusted_flagger: notifier_name is not a trusted flagger of this tenant"),
    ({"explanation": "x" * 5001}, "explanation"),
    ({"explanation": None}, "explanation"),
    ({"external_id": None}, "external_id: name the item (external_id) or its media (media_uri)"),
    ({"external_id": None, "media_uri": "../etc/passwd"}, "path '../etc/passwd' contains '..'"),
    ({"item": "post-1"}, "item"),
])
def test_a_refused_notice_is_422_and_stores_nothing(client, auth, rt, approved, change, message):
    approved("post-1")
    body = {key: value for key, value in {**USER, "external_id": "post-1", **change}.items() if value is not None}
    before = stored(rt)
    answer = client.post("/v1/notices", json=body, headers=auth["ingest"])
    assert answer.status_code == 422 and message in answer.text, answer.text
    assert stored(rt) == before


def test_another_tenants_item_is_404_as_a_missing_one(client, rt, token, media_root):
    other = tenants.create(rt.settings.database_url, "other", "test")["id"]
    (media_root / "theirs.jpg").write_bytes(jpeg_bytes(width=223))
    items.submit("theirs.jpg", external_id="theirs", rt=rt, origin=items.Origin(other, "their-backend"))
    ours = token("ingest", "our-backend")
    before = stored(rt)
    answers = [client.post("/v1/notices", json={**USER, "external_id": ext}, headers=ours) for ext in
               ("theirs", "nobodys")]
    assert [a.status_code for a in answers] == [404, 404]
    assert [a.json()["message"] for a in answers] == ["no item with external_id 'theirs'",
                                                      "no item with external_id 'nobodys'"]
    assert stored(rt) == before
    theirs = client.post("/v1/notices", json={**USER, "external_id": "theirs"},
                         headers=token("ingest", "their-backend", "other"))
    assert theirs.status_code == 201


def test_only_ingest_and_admin_tokens_file_notices(client, auth, approved):
    approved("post-2")
    assert client.post("/v1/notices", json={**USER, "external_id": "post-2"}, headers=auth["reviewer"]
                       ).status_code == 403
    assert client.post("/v1/notices", json={**USER, "external_id": "post-2"}).status_code == 401


def test_the_queue_filter_is_checked(client, auth):
    answer = client.get("/v1/review/queue", params={"source": "tip-off"}, headers=auth["reviewer"])
    assert answer.status_code == 422 and "source" in answer.text


def test_the_queue_pages_on_past_a_trusted_flaggers_item(client, auth, approved):
    """A cursor names rank 0 (``notices.TRUSTED_RANK``): review/keyset.py's decode must take it back."""
    first, second = approved("p-1"), approved("p-2")
    client.post("/v1/notices", headers=auth["ingest"], json={**USER, "external_id": "p-2", "notifier_name": IWF,
                                                             "trusted_flagger": True})
    client.post("/v1/notices", headers=auth["ingest"], json={**USER, "external_id": "p-1"})
    page = client.get("/v1/review/queue", params={"source": "notice", "limit": 1}, headers=auth["reviewer"]).json()
    assert [row["id"] for row in page["items"]] == [second]
    following = client.get("/v1/review/queue", params={"source": "notice", "limit": 1, "after": page["next"]},
                           headers=auth["reviewer"])
    assert following.status_code == 200, following.text
    assert [row["id"] for row in following.json()["items"]] == [first]
