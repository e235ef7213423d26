"""Undo and override over HTTP (issue 17.2) and the console's toast and forms: roles, tenants, refusals that
name what is wrong and store nothing, and what reaches SNS and webhooks (nothing, within the window)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from moderation.alerts import fanout, services as alerts, webhooks
from moderation.alerts.models import Alert, WebhookDelivery
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review.models import Review
from moderation.tenants import services as tenants, tokens


def reviewed(client, auth, item_id: str, verdict: str = "rejected") -> dict:
    assert client.post("/v1/review/claim", headers=auth["reviewer"]).json()["item"]["id"] == item_id
    response = client.post(f"/v1/items/{item_id}/review", headers=auth["reviewer"],
                           json={"verdict": verdict, "reason": "hate symbol"})
    assert response.status_code == 200, response.text
    return response.json()


def alerts_of(rt, item_id: str, kind: str | None = None) -> list[Alert]:
    with transaction(rt.settings.database_url) as s:
        query = select(Alert).where(Alert.item_id == item_id).order_by(Alert.id)
        return list(s.scalars(query if kind is None else query.where(Alert.kind == kind)))


def actions(rt, item_id: str) -> list[str]:
    with transaction(rt.settings.database_url) as s:
        return list(s.scalars(select(m.AuditEvent.action).where(m.AuditEvent.item_id == item_id)
                              .order_by(m.AuditEvent.id)))


def age_review(rt, item_id: str, seconds: int) -> None:
    with transaction(rt.settings.database_url) as s:
        s.execute(update(Review).where(Review.item_id == item_id)
                  .values(reviewed_at=utcnow() - timedelta(seconds=seconds)))


# --- undo --------------------------------------------------------------------


def test_an_undo_within_the_window_reverts_the_review_and_nothing_is_sent(rt, client, auth, flagged):
    webhooks.add(rt.settings.database_url, 1, "https://hooks.example.com/modq", ["item.reviewed"], "test")
    item_id = flagged()
    alerts.flush_outbox(rt.settings.database_url, rt.publisher)  # the automatic flag's alert
    sent = len(rt.publisher.sent)
    reviewed(client, auth, item_id)

    response = client.post(f"/v1/items/{item_id}/review/undo", headers=auth["reviewer"])

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "flagged" and body["review"] is None
    assert body["lease"]["owner"].startswith("alice (token ")
    assert body["undo"] == {"verdict": "rejected", "status": "flagged", "followed_up": False,
                            "lease_expires_at": body["undo"]["lease_expires_at"]}
    assert actions(rt, item_id)[-3:] == ["review", "undo", "claim"]
    [review_alert] = alerts_of(rt, item_id, "review")
    assert review_alert.cancelled_at is not None
    later = lambda: utcnow() + timedelta(hours=1)  # noqa: E731 - long after the window
    assert alerts.flush_outbox(rt.settings.database_url, rt.publisher) == 0
    assert fanout.sweep(rt.settings.database_url, clock=later) == []
    with transaction(rt.settings.database_url) as s:
        assert s.scalars(select(WebhookDelivery)).all() == []  # never fanned out
    assert len(rt.publisher.sent) == sent
    again = client.post(f"/v1/items/{item_id}/review", headers=auth["reviewer"],
                        json={"verdict": "approved", "reason": "a second look"})
    assert again.status_code == 200 and again.json()["status"] == "approved"  # reviewed again, at once


@pytest.mark.parametrize("case, message", [
    ("another reviewer", "only the reviewer who recorded it"),
    ("an admin", "only the reviewer who recorded it"),
    ("after the window", "the undo window of 10 s (MODQ_REVIEW_UNDO_SECONDS) closed"),
    ("no review", "has no review to undo"),
])
def test_an_undo_is_refused_with_409(rt, client, auth, make_token, flagged, case, message):
    item_id = flagged()
    if case != "no review":
        reviewed(client, auth, item_id)
    if case == "after the window":
        age_review(rt, item_id, 11)
    who = {"another reviewer": {"Authorization": f"Bearer {make_token('reviewer', 'bob')}"},
           "an admin": auth["admin"]}.get(case, auth["reviewer"])
    before = actions(rt, item_id)
    response = client.post(f"/v1/items/{item_id}/review/undo", headers=who)
    assert response.status_code == 409 and message in response.json()["message"]
    assert actions(rt, item_id) == before


def test_an_undo_of_another_tenants_item_is_404_and_ingest_may_not(rt, client, auth, flagged):
    tenants.create(rt.settings.database_url, "other", "test")
    other = tokens.create(rt.settings.database_url, "alice", "reviewer", "test", ("other",))[1]
    item_id = flagged()
    reviewed(client, auth, item_id)
    response = client.post(f"/v1/items/{item_id}/review/undo", headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 404
    assert client.post(f"/v1/items/{item_id}/review/undo", headers=auth["ingest"]).status_code == 403
    assert client.post("/v1/items/nope/review/undo", headers=auth["reviewer"]).status_code == 404
    assert client.post(f"/v1/items/{'x' * 65}/review/undo", headers=auth["reviewer"]).status_code == 422


def test_an_alert_already_sent_is_followed_up_by_review_undone(rt, client, auth, flagged):
    item_id = flagged()
    reviewed(client, auth, item_id)
    with transaction(rt.settings.database_url) as s:  # the relay raced the undo and won
        s.execute(update(Alert).where(Alert.item_id == item_id).values(hold_until=utcnow() - timedelta(seconds=1)))
    alerts.flush_outbox(rt.settings.database_url, rt.publisher)

    response = client.post(f"/v1/items/{item_id}/review/undo", headers=auth["reviewer"])

    assert response.status_code == 200 and response.json()["undo"]["followed_up"] is True
    [follow] = alerts_of(rt, item_id, "undo")
    assert follow.message["undone_verdict"] == "rejected" and follow.id in rt.dispatcher.alerts


# --- override ----------------------------------------------------------------


def test_an_admin_overrides_a_review_audited_with_an_event(rt, client, auth, flagged):
    item_id = flagged(external_id="post-5")
    reviewed(client, auth, item_id)
    response = client.post(f"/v1/items/{item_id}/override", headers=auth["admin"],
                           json={"verdict": "approved", "reason": "museum context"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "approved" and body["review"]["verdict"] == "approved"
    assert body["override"]["previous_verdict"] == "rejected" and body["override"]["reason"] == "museum context"
    assert body["override"]["overridden_by"].startswith("root (token ")
    assert body["override"]["reviewer"].startswith("alice (token ")
    assert actions(rt, item_id)[-1] == "override"
    [event] = alerts_of(rt, item_id, "override")
    assert (event.message["verdict"], event.message["previous_verdict"]) == ("approved", "rejected")
    assert event.message["reasons"] == ["museum context"] and event.id in rt.dispatcher.alerts
    audit = client.get(f"/v1/audit?item_id={item_id}", headers=auth["admin"])
    assert audit.status_code == 200 and "override" in audit.text
    shown = client.get(f"/v1/items/{item_id}", headers=auth["reviewer"]).json()["review"]
    assert (shown["verdict"], shown["overridden_from"]) == ("approved", "rejected")
    assert shown["overridden_by"].startswith("root (token ") and shown["overridden_at"]
    platform = client.get(f"/v1/items/{item_id}", headers=auth["ingest"]).json()["review"]
    assert platform["overridden_from"] == "rejected" and platform["overridden_by"] is None  # names stay inside


@pytest.mark.parametrize("case, status, message", [
    ("reviewer", 403, "the reviewer role may not do this"),
    ("ingest", 403, "the ingest role may not do this"),
    ("no review", 409, "has no recorded review to override"),
    ("same verdict", 409, "is already rejected"),
    ("reason missing", 422, "reason: Field required"),
    ("reason blank", 422, "reason: String should match pattern"),
    ("reason too long", 422, "reason: String should have at most 1000 characters"),
    ("verdict flagged", 422, "verdict: Input should be 'approved' or 'rejected'"),
    ("unknown field", 422, "extra: Extra inputs are not permitted"),
    ("missing item", 404, "no item"),
])
def test_an_override_is_refused_and_stores_nothing(rt, client, auth, flagged, case, status, message):
    item_id = flagged()
    if case != "no review":
        reviewed(client, auth, item_id)
    body = {"verdict": "approved", "reason": "museum context"}
    body.update({"same verdict": {"verdict": "rejected"}, "reason blank": {"reason": "   "},
                 "reason too long": {"reason": "x" * 1001}, "verdict flagged": {"verdict": "flagged"},
                 "unknown field": {"extra": 1}}.get(case, {}))
    if case == "reason missing":
        del body["reason"]
    who = auth.get(case, auth["admin"])
    target = "nope" if case == "missing item" else item_id
    before = actions(rt, item_id)
    response = client.post(f"/v1/items/{target}/override", headers=who, json=body)
    assert response.status_code == status and message in response.json()["message"], response.text
    assert actions(rt, item_id) == before and alerts_of(rt, item_id, "override") == []


def test_an_override_of_another_tenants_item_is_404(rt, client, auth, flagged):
    tenants.create(rt.settings.database_url, "other", "test")
    other = tokens.create(rt.settings.database_url, "root2", "admin", "test", ("other",))[1]
    item_id = flagged()
    reviewed(client, auth, item_id)
    response = client.post(f"/v1/items/{item_id}/override", headers={"Authorization": f"Bearer {other}"},
                           json={"verdict": "approved", "reason": "mine now"})
    assert response.status_code == 404 and actions(rt, item_id)[-1] == "review"


# --- console -------------------------------------------------------------------


def test_after_a_console_verdict_the_next_page_offers_undo(rt, client, sign_in, flagged):
    first, second = flagged(), flagged()
    csrf = sign_in("reviewer")
    client.post("/next", data={"csrf": csrf})
    response = client.post(f"/items/{first}/review", data={"csrf": csrf, "verdict": "approved", "reason": "ok"},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/items/{second}?undo={first}"
    page = client.get(response.headers["location"]).text
    assert 'id="undo-toast"' in page and f'action="/items/{first}/undo"' in page and "/static/undo.js" in page

    undone = client.post(f"/items/{first}/undo", data={"csrf": csrf}, follow_redirects=False)
    assert undone.status_code == 303 and undone.headers["location"] == f"/items/{first}"
    reopened = client.get(f"/items/{first}").text
    assert 'id="review-form"' in reopened and 'id="undo-toast"' not in reopened
    again = client.post(f"/items/{first}/undo", data={"csrf": csrf})
    assert again.status_code == 409 and "has no review to undo" in again.text


def test_the_last_items_verdict_offers_undo_on_the_emptied_queue(rt, client, sign_in, flagged):
    only = flagged()
    csrf = sign_in("reviewer")
    client.post("/next", data={"csrf": csrf})
    response = client.post(f"/items/{only}/review", data={"csrf": csrf, "verdict": "rejected", "reason": "no"},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/?notice=empty")
    page = client.get(response.headers["location"]).text
    assert "Nothing left to claim" in page and f'action="/items/{only}/undo"' in page


@pytest.mark.parametrize("undo", ["{other}", "nope", "x" * 65, "\x00", ""])
def test_the_toast_is_not_offered_for_a_review_that_is_not_yours(rt, client, auth, sign_in, flagged, undo):
    item_id = flagged()
    reviewed(client, auth, item_id)  # alice's review (through the API)
    sign_in("reviewer", "bob")
    page = client.get(f"/items/{item_id}", params={"undo": undo.format(other=item_id)})
    assert page.status_code in (200, 422) and 'id="undo-toast"' not in page.text


def test_the_toast_is_gone_after_the_window(rt, client, sign_in, flagged):
    first, second = flagged(), flagged()
    csrf = sign_in("reviewer")
    client.post("/next", data={"csrf": csrf})
    location = client.post(f"/items/{first}/review", data={"csrf": csrf, "verdict": "rejected", "reason": "no"},
                           follow_redirects=False).headers["location"]
    age_review(rt, first, 10)
    assert 'id="undo-toast"' not in client.get(location).text
    refused = client.post(f"/items/{first}/undo", data={"csrf": csrf})
    assert refused.status_code == 409 and "the undo window of 10 s" in refused.text and second


def test_console_undo_and_override_check_the_csrf_token(rt, client, auth, sign_in, flagged):
    item_id = flagged()
    reviewed(client, auth, item_id)
    sign_in("admin")
    for path, data in ((f"/items/{item_id}/undo", {}), (f"/items/{item_id}/override",
                                                        {"verdict": "approved", "reason": "x"})):
        response = client.post(path, data={"csrf": "stale", **data})
        assert response.status_code == 403
    assert actions(rt, item_id)[-1] == "review"


def test_only_an_admin_sees_and_uses_the_override_form(rt, client, auth, sign_in, flagged):
    item_id = flagged()
    reviewed(client, auth, item_id)
    csrf = sign_in("reviewer", "bob")
    assert 'id="override-form"' not in client.get(f"/items/{item_id}").text
    refused = client.post(f"/items/{item_id}/override", data={"csrf": csrf, "verdict": "approved", "reason": "x"})
    assert refused.status_code == 403 and "Only an admin" in refused.text
    csrf = sign_in("admin")
    assert 'id="override-form"' in client.get(f"/items/{item_id}").text
    blank = client.post(f"/items/{item_id}/override", data={"csrf": csrf, "verdict": "approved", "reason": " "})
    assert blank.status_code == 422 and "reason: a reason of 1-1000 characters" in blank.text
    done = client.post(f"/items/{item_id}/override", data={"csrf": csrf, "verdict": "approved",
                                                           "reason": "context"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/items/{item_id}"
    assert "status-approved" in client.get(f"/items/{item_id}").text and actions(rt, item_id)[-1] == "override"
