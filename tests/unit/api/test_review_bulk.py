"""Bulk review over HTTP and in the console (issue 17.4): mixed claimable and leased items, every id answered;
"all matching" for admins only, with the count they confirmed; bad bodies refused naming the field, nothing
stored; another tenant's items reported as not found and left alone."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from moderation.alerts.models import Alert
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review import bulk as bulk_review
from moderation.review.models import Review
from moderation.tenants import services as tenants
from tests.unit.review.test_scope import move


def state(rt, item_id: str) -> tuple:
    """(status, lease owner, review audit entries, review alerts)."""
    with transaction(rt.settings.database_url) as s:
        item = s.get(m.Item, item_id)
        audits = s.scalar(select(func.count()).select_from(m.AuditEvent).where(
            m.AuditEvent.item_id == item_id, m.AuditEvent.action == "review"))
        sent = s.scalar(select(func.count()).select_from(Alert).where(Alert.item_id == item_id,
                                                                       Alert.kind == "review"))
        return item.status, (item.lease_owner or "").split(" (")[0] or None, audits, sent


def reviews(rt) -> int:
    with transaction(rt.settings.database_url) as s:
        return s.scalar(select(func.count()).select_from(Review))


def bulk(client, headers, body, tenant: str | None = None):
    return client.post("/v1/review/bulk" + (f"?tenant={tenant}" if tenant else ""), json=body, headers=headers)


def test_mixed_claimable_and_leased_items_each_get_an_outcome(client, auth, rt, flagged, token):
    b = tenants.create(rt.settings.database_url, "b", "test")["id"]
    mine, bobs, free, done, theirs = (flagged() for _ in range(5))  # oldest first: alice claims one, bob the next
    move(rt, theirs, b)
    assert client.post("/v1/review/claim", json={}, headers=auth["reviewer"]).json()["item"]["id"] == mine
    assert client.post("/v1/review/claim", json={}, headers=token("reviewer", "bob")).json()["item"]["id"] == bobs
    assert client.post(f"/v1/items/{done}/review", json={"verdict": "approved", "reason": "fine"},
                       headers=auth["admin"]).status_code == 200
    response = bulk(client, auth["reviewer"], {"verdict": "rejected", "reason": "spam wave",
                                               "item_ids": [free, mine, bobs, done, theirs, "no-such-item"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(r["item_id"], r["outcome"], r["reason"]) for r in body["results"]] == [
        (free, "reviewed", None), (mine, "reviewed", None), (bobs, "skipped", "leased"),
        (done, "skipped", "not_awaiting_review"), (theirs, "skipped", "not_found"),
        ("no-such-item", "skipped", "not_found")]
    assert (body["requested"], body["reviewed"], body["skipped"]) == (6, 2, 4)
    assert body["skipped_by_reason"] == {"leased": 1, "not_awaiting_review": 1, "not_found": 2}
    assert state(rt, free) == state(rt, mine) == ("rejected", None, 1, 1)  # each its own audit entry and alert
    assert state(rt, bobs) == ("flagged", "bob", 0, 0)  # never taken from bob
    assert state(rt, theirs)[:3] == ("flagged", None, 0)
    detail = client.get(f"/v1/items/{free}", headers=auth["reviewer"]).json()
    assert detail["review"]["reason"] == "spam wave" and detail["review"]["verdict"] == "rejected"


def test_another_tenant_s_ids_are_not_found_exactly_as_missing_ones_and_not_decided(client, rt, flagged, token):
    tenants.create(rt.settings.database_url, "b", "test")
    ours = flagged()  # the tenant default's
    b_admin = token("admin", "b-admin", "b")
    body = bulk(client, b_admin, {"verdict": "approved", "reason": "ok", "item_ids": [ours, "no-such-item"]}).json()
    theirs, missing = body["results"]
    assert {k: v for k, v in theirs.items() if k != "item_id"} == {k: v for k, v in missing.items() if k != "item_id"}
    assert theirs["reason"] == "not_found" and state(rt, ours) == ("flagged", None, 0, 0)
    matching = bulk(client, b_admin, {"verdict": "approved", "reason": "ok", "all_matching": True,
                                      "expected_count": 0})
    assert matching.status_code == 200 and matching.json()["requested"] == 0  # b's queue is empty
    assert client.get("/v1/review/queue/count", headers=b_admin).json()["count"] == 0
    assert state(rt, ours)[0] == "flagged"


def test_an_admin_decides_all_matching_after_confirming_the_count(client, auth, rt, flagged, token):
    hate = [flagged("Hate Symbols", 70) for _ in range(3)]
    other = flagged("Graphic Violence", 60)
    client.post("/v1/review/claim", json={"label": "Hate Symbols"}, headers=token("reviewer", "bob"))
    counted = client.get("/v1/review/queue/count?label=Hate%20Symbols", headers=auth["admin"])
    assert counted.status_code == 200 and counted.json() == {"count": 3, "max": 5000}
    request = {"verdict": "approved", "reason": "old policy", "all_matching": True,
               "filter": {"label": "Hate Symbols"}, "expected_count": 3}
    body = bulk(client, auth["admin"], request).json()
    assert (body["reviewed"], body["skipped_by_reason"]) == (2, {"leased": 1})
    assert {r["item_id"] for r in body["results"]} == set(hate)
    assert state(rt, other)[0] == "flagged"


def test_a_count_that_changed_is_409_and_nothing_is_decided(client, auth, rt, flagged):
    items = [flagged() for _ in range(2)]
    response = bulk(client, auth["admin"], {"verdict": "rejected", "reason": "spam", "all_matching": True,
                                            "expected_count": 1})
    assert response.status_code == 409
    assert "now matches 2 items, not the 1 you confirmed" in response.json()["message"]
    assert [state(rt, i)[0] for i in items] == ["flagged", "flagged"] and reviews(rt) == 0


def test_a_reviewer_asking_all_matching_is_403(client, auth, rt, flagged):
    item_id = flagged()
    response = bulk(client, auth["reviewer"], {"verdict": "rejected", "reason": "spam", "all_matching": True,
                                               "expected_count": 1})
    assert response.status_code == 403 and "only an admin" in response.json()["message"]
    assert state(rt, item_id) == ("flagged", None, 0, 0)


def test_the_tenant_parameter_narrows_what_is_decided(client, rt, flagged, token):
    b = tenants.create(rt.settings.database_url, "b", "test")["id"]
    in_a, in_b = flagged(), flagged()
    move(rt, in_b, b)
    both = token("admin", "ops", "default", "b")
    assert client.get("/v1/review/queue/count?tenant=b", headers=both).json()["count"] == 1
    body = bulk(client, both, {"verdict": "approved", "reason": "ok", "item_ids": [in_a, in_b]}, tenant="b").json()
    assert [(r["item_id"], r["outcome"]) for r in body["results"]] == [(in_a, "skipped"), (in_b, "reviewed")]
    unknown = bulk(client, both, {"verdict": "approved", "reason": "ok", "item_ids": [in_a]}, tenant="zzz")
    assert unknown.status_code == 422 and "tenant" in unknown.json()["message"] and state(rt, in_a)[0] == "flagged"


@pytest.mark.parametrize(("body", "field"), [
    ({"reason": "x", "item_ids": ["a"]}, "verdict"),
    ({"verdict": "flagged", "reason": "x", "item_ids": ["a"]}, "verdict"),
    ({"verdict": "approved", "item_ids": ["a"]}, "reason"),
    ({"verdict": "approved", "reason": "", "item_ids": ["a"]}, "reason"),
    ({"verdict": "approved", "reason": "   ", "item_ids": ["a"]}, "reason"),
    ({"verdict": "approved", "reason": "x" * 1001, "item_ids": ["a"]}, "reason"),
    ({"verdict": "approved", "reason": "a\x00b", "item_ids": ["a"]}, "reason"),
    ({"verdict": "approved", "reason": "x"}, "item_ids"),
    ({"verdict": "approved", "reason": "x", "item_ids": []}, "item_ids"),
    ({"verdict": "approved", "reason": "x", "item_ids": [f"i{n}" for n in range(201)]}, "item_ids"),
    ({"verdict": "approved", "reason": "x", "item_ids": ["x" * 65]}, "item_ids"),
    ({"verdict": "approved", "reason": "x", "item_ids": [""]}, "item_ids"),
    ({"verdict": "approved", "reason": "x", "item_ids": [7]}, "item_ids"),
    ({"verdict": "approved", "reason": "x", "item_ids": "ITEM"}, "item_ids"),
    ({"verdict": "approved", "reason": "x", "item_ids": ["a"], "all_matching": True, "expected_count": 1},
     "item_ids"),
    ({"verdict": "approved", "reason": "x", "all_matching": True}, "expected_count"),
    ({"verdict": "approved", "reason": "x", "all_matching": True, "expected_count": -1}, "expected_count"),
    ({"verdict": "approved", "reason": "x", "all_matching": True, "expected_count": 5001}, "expected_count"),
    ({"verdict": "approved", "reason": "x", "item_ids": ["a"], "filter": {"label": "Alcohol"}}, "filter"),
    ({"verdict": "approved", "reason": "x", "all_matching": True, "expected_count": 1,
      "filter": {"verdict": "approved"}}, "filter.verdict"),
    ({"verdict": "approved", "reason": "x", "all_matching": True, "expected_count": 1,
      "filter": {"colour": "red"}}, "filter.colour"),
    ({"verdict": "approved", "reason": "x", "item_ids": ["a"], "force": True}, "force"),
])
def test_a_bad_body_is_422_naming_the_field_and_stores_nothing(client, auth, rt, flagged, body, field):
    item_id = flagged()
    body = {**body, **({"item_ids": [item_id]} if body.get("item_ids") == ["a"] else {})}
    response = bulk(client, auth["admin"], body)
    assert response.status_code == 422, response.text
    assert field in response.json()["message"]
    assert state(rt, item_id) == ("flagged", None, 0, 0) and reviews(rt) == 0


@pytest.mark.parametrize("raw", ["", "[]", '"approve all"', "{not json"])
def test_a_body_that_is_not_an_object_is_422(client, auth, raw):
    response = client.post("/v1/review/bulk", content=raw, headers={**auth["admin"],
                                                                    "Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["message"]


def test_ingest_tokens_may_not_bulk_review(client, auth, rt, flagged):
    item_id = flagged()
    response = bulk(client, auth["ingest"], {"verdict": "approved", "reason": "x", "item_ids": [item_id]})
    assert response.status_code == 403 and state(rt, item_id)[0] == "flagged"
    assert client.get("/v1/review/queue/count", headers=auth["ingest"]).status_code == 403


def test_the_queue_count_filters_like_the_queue(client, auth, flagged):
    flagged("Hate Symbols", 70), flagged("Exposed Female Genitalia", 99)
    count = lambda q="": client.get(f"/v1/review/queue/count{q}", headers=auth["reviewer"]).json()["count"]  # noqa: E731
    assert (count(), count("?verdict=rejected"), count("?media_type=video")) == (1, 1, 0)
    assert client.get("/v1/review/queue/count?verdict=approved", headers=auth["reviewer"]).status_code == 422
    typo = client.get("/v1/review/queue/count?label=Hate%20Symbolz", headers=auth["reviewer"])
    assert typo.status_code == 422 and "label" in typo.json()["message"]


# --- the console's route --------------------------------------------------------------------------------------


def test_the_console_decides_the_selected_rows_and_says_what_happened(client, rt, flagged, sign_in, token):
    csrf = sign_in("reviewer")
    a, b, held = flagged(), flagged(), flagged()
    client.post("/v1/review/claim", json={}, headers=token("reviewer", "bob"))  # bob leases the oldest: a
    response = client.post("/review/bulk", data={"csrf": csrf, "verdict": "rejected", "reason": "spam wave",
                                                 "item_ids": [a, b, held]}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/?bulk=rejected&bulk_reviewed=2&bulk_leased=1"
    page = client.get(response.headers["location"]).text
    assert "2 rejected, 1 skipped (1 leased to someone else)" in page
    assert state(rt, a)[0] == "flagged" and state(rt, b)[0] == state(rt, held)[0] == "rejected"


def test_the_console_route_checks_the_csrf_token(client, rt, flagged, sign_in):
    sign_in("reviewer")
    item_id = flagged()
    response = client.post("/review/bulk", data={"csrf": "forged", "verdict": "rejected", "reason": "x",
                                                 "item_ids": [item_id]}, follow_redirects=False)
    assert response.status_code == 403 and state(rt, item_id)[0] == "flagged"


def test_the_console_refuses_all_matching_to_a_reviewer_and_a_changed_count(client, rt, flagged, sign_in):
    item_id = flagged()
    csrf = sign_in("reviewer")
    form = {"csrf": csrf, "verdict": "rejected", "reason": "x", "all_matching": "true", "expected_count": "1"}
    refused = client.post("/review/bulk", data=form)
    assert "Nothing was decided. Only an admin may decide all matching items." in refused.text
    csrf = sign_in("admin")
    changed = client.post("/review/bulk", data={**form, "csrf": csrf, "expected_count": "5"})
    assert "The filter matches 1 items now, not the 5 you confirmed." in changed.text
    empty = client.post("/review/bulk", data={"csrf": csrf, "verdict": "rejected", "reason": "", "item_ids": [item_id]})
    assert "Give one reason" in empty.text
    assert state(rt, item_id) == ("flagged", None, 0, 0)
    done = client.post("/review/bulk", data={**form, "csrf": csrf, "expected_count": "1"})
    assert "1 rejected" in done.text and state(rt, item_id)[0] == "rejected"


def test_an_admins_filter_over_the_cap_is_told_to_narrow_it_not_that_admins_only_may(client, rt, flagged, sign_in,
                                                                                     monkeypatch):
    monkeypatch.setattr(bulk_review, "MATCHING_MAX", 1)
    items = [flagged(), flagged()]
    csrf = sign_in("admin")
    page = client.post("/review/bulk", data={"csrf": csrf, "verdict": "rejected", "reason": "x",
                                             "all_matching": "true", "expected_count": "1"})
    assert "items: narrow it." in page.text and "Only an admin" not in page.text
    assert [state(rt, i)[0] for i in items] == ["flagged", "flagged"]


@pytest.mark.parametrize("query", ["bulk=rejected&bulk_reviewed=<b>9</b>", "bulk=<script>&bulk_reviewed=2",
                                   "bulk_error=expected_count", "bulk_error=<i>x</i>",
                                   "bulk=approved&bulk_reviewed=99999999"])
def test_a_forged_outcome_in_the_url_shows_nothing(client, sign_in, query):
    sign_in("reviewer")
    page = client.get("/?" + query)
    assert page.status_code == 200 and 'id="bulk-notice"' not in page.text and "<script>&" not in page.text


def test_the_console_count_is_the_filter_s(client, flagged, sign_in):
    flagged("Hate Symbols", 70), flagged("Hate Symbols", 70), flagged("Graphic Violence", 60)
    sign_in("admin")
    assert client.get("/review/bulk/count").json()["count"] == 3
    assert client.get("/review/bulk/count?label=Hate%20Symbols").json()["count"] == 2
    assert client.get("/review/bulk/count?label=Hate%20Symbolz").status_code == 422  # a typo is no empty count


def test_a_reason_code_the_review_refuses_is_reported_per_item_and_decides_nothing(client, auth, rt, flagged):
    items = [flagged(), flagged()]
    body = bulk(client, auth["reviewer"], {"verdict": "rejected", "reason": "spam", "item_ids": items,
                                           "reason_code": "no-such-code"}).json()
    assert [(r["outcome"], r["reason"]) for r in body["results"]] == [("skipped", "refused")] * 2
    assert all("no-such-code" in r["detail"] for r in body["results"])
    assert [state(rt, i) for i in items] == [("flagged", None, 0, 0)] * 2 and reviews(rt) == 0
