"""Reviewer preferences over HTTP and in the console (issue 17.8-9), and the label filter of the review API
refusing what is not a taxonomy label (422 naming `label`) instead of answering an empty queue."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from moderation.infra.db import transaction
from moderation.items.models import AuditEvent
from moderation.review.models import ReviewerPreferences, TenantReviewDefaults
from moderation.tenants import services as tenants, tokens
from tests.unit.api.conftest import form_csrf

BUILT_IN = {"blur_by_default": True, "grayscale_after_reveal": False, "video_muted": True, "shortcuts": True}


def stored(rt) -> tuple[list, list]:
    with transaction(rt.settings.database_url) as s:
        return (s.scalars(select(ReviewerPreferences.settings)).all(),
                s.scalars(select(TenantReviewDefaults.settings)).all())


def test_own_preferences_start_from_the_built_in_defaults_and_are_replaced(client, auth):
    got = client.get("/v1/review/preferences", headers=auth["reviewer"])
    assert got.status_code == 200 and got.json() == {"own": {}, "tenant_defaults": {}, "effective": BUILT_IN}
    put = client.put("/v1/review/preferences", headers=auth["reviewer"], json={"shortcuts": False, "video_muted": None})
    assert put.status_code == 200, put.text
    assert put.json()["own"] == {"shortcuts": False} and put.json()["effective"] == {**BUILT_IN, "shortcuts": False}
    assert client.get("/v1/review/preferences", headers=auth["admin"]).json()["own"] == {}  # root's are root's


def test_an_admin_sets_the_tenant_defaults_and_a_reviewers_own_win(client, auth):
    put = client.put("/v1/tenants/default/review-defaults", headers=auth["admin"],
                     json={"grayscale_after_reveal": True, "shortcuts": False})
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["tenant"] == "default" and body["settings"] == {"grayscale_after_reveal": True, "shortcuts": False}
    assert body["updated_by"].startswith("root (token ")
    assert client.get("/v1/tenants/default/review-defaults", headers=auth["admin"]).json() == body
    client.put("/v1/review/preferences", headers=auth["reviewer"], json={"shortcuts": True})
    mine = client.get("/v1/review/preferences", headers=auth["reviewer"]).json()
    assert mine["tenant_defaults"] == {"grayscale_after_reveal": True, "shortcuts": False}
    assert mine["effective"] == {**BUILT_IN, "grayscale_after_reveal": True, "shortcuts": True}


def test_a_reviewer_cannot_set_tenant_defaults(client, auth, rt):
    for method in ("get", "put"):
        response = client.request(method, "/v1/tenants/default/review-defaults", headers=auth["reviewer"],
                                  json={"shortcuts": False})
        assert response.status_code == 403, response.text
    assert client.put("/v1/review/preferences", headers=auth["ingest"], json={}).status_code == 403
    assert stored(rt) == ([], [])


def test_another_tenants_defaults_are_404_as_a_missing_tenant(client, rt, token):
    tenants.create(rt.settings.database_url, "forum", "test")
    admin = token("admin", "default-admin")  # acts for the default tenant only
    for name in ("forum", "nosuch"):
        for method in ("get", "put"):
            response = client.request(method, f"/v1/tenants/{name}/review-defaults", headers=admin,
                                      json={"shortcuts": False})
            assert response.status_code == 404, response.text
            assert response.json()["message"] == f"no tenant named {name!r} that this token acts for"
    assert client.put("/v1/tenants/Bad%20Name/review-defaults", headers=admin, json={}).status_code == 422
    assert client.put("/v1/tenants/forum/review-defaults", headers=token("admin", "forum-admin", "forum"),
                      json={"shortcuts": False}).status_code == 200
    with transaction(rt.settings.database_url) as s:
        assert [e.action for e in s.scalars(select(AuditEvent))] == ["token_create", "token_create",
                                                                     "review_defaults"]


def test_a_token_for_several_tenants_gets_the_default_tenants_defaults(client, rt, token, auth):
    tenants.create(rt.settings.database_url, "forum", "test")
    client.put("/v1/tenants/default/review-defaults", headers=auth["admin"], json={"video_muted": False})
    both = token("reviewer", "roamer", "default", "forum")
    assert client.get("/v1/review/preferences", headers=both).json()["tenant_defaults"] == {"video_muted": False}
    only_forum = token("reviewer", "forumite", "forum")
    assert client.get("/v1/review/preferences", headers=only_forum).json()["tenant_defaults"] == {}
    # several tenants, none of them default: the built-in defaults, never default's settings (not theirs to read)
    tenants.create(rt.settings.database_url, "blog", "test")
    elsewhere = client.get("/v1/review/preferences", headers=token("reviewer", "wanderer", "forum", "blog")).json()
    assert elsewhere["tenant_defaults"] == {} and elsewhere["effective"]["video_muted"] is True


@pytest.mark.parametrize("body, field", [
    ({"blur": True}, "blur"),
    ({"shortcuts": "false"}, "shortcuts"),
    ({"shortcuts": 0}, "shortcuts"),
    ({"video_muted": "yes"}, "video_muted"),
    ([True], None),
    ("shortcuts", None),
])
def test_bad_bodies_are_422_naming_the_field_and_store_nothing(client, auth, rt, body, field):
    for path, who in (("/v1/review/preferences", "reviewer"), ("/v1/tenants/default/review-defaults", "admin")):
        response = client.put(path, headers=auth[who], json=body)
        assert response.status_code == 422, response.text
        if field:
            assert response.json()["message"].startswith(f"{field}: ")
    assert stored(rt) == ([], [])


# --- the label filter (issue 17.9): a taxonomy label, as the console's dropdown ------------------------------


def test_the_queue_and_claims_refuse_a_label_that_is_not_in_the_taxonomy(client, auth, flagged):
    item_id = flagged("Hate Symbols", 70)
    typo = client.get("/v1/review/queue", params={"label": "Hate Symbol"}, headers=auth["reviewer"])
    assert typo.status_code == 422 and typo.json()["message"].startswith("query.label: ")
    assert "unknown label 'Hate Symbol'" in typo.json()["message"]
    spelt = client.get("/v1/review/queue", params={"label": "hate symbols"}, headers=auth["reviewer"])
    assert [row["id"] for row in spelt.json()["items"]] == [item_id]  # canonical spelling, any case
    bad = client.post("/v1/review/claim", json={"label": "<script>"}, headers=auth["reviewer"])
    assert bad.status_code == 422 and bad.json()["message"].startswith("label: ")
    claimed = client.post("/v1/review/claim", json={"label": "Hate Symbols"}, headers=auth["reviewer"])
    assert claimed.status_code == 200 and claimed.json()["item"]["id"] == item_id


# --- the console page -----------------------------------------------------------------------------------------


def test_the_console_preferences_page_saves_the_checkboxes(client, sign_in, rt):
    csrf = sign_in("reviewer")
    page = client.get("/preferences")
    assert page.status_code == 200 and 'id="prefs-form"' in page.text and 'id="defaults-form"' not in page.text
    assert 'data-shortcuts="on"' in page.text
    saved = client.post("/preferences", data={"csrf": csrf, "blur_by_default": "on"}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/preferences?saved=own"
    again = client.get("/preferences?saved=own")
    assert 'data-shortcuts="off"' in again.text and 'id="prefs-saved"' in again.text
    assert stored(rt)[0] == [{"blur_by_default": True, "grayscale_after_reveal": False, "video_muted": False,
                              "shortcuts": False}]


def test_the_console_refuses_a_stale_form_and_a_reviewers_tenant_form(client, sign_in, rt):
    csrf = sign_in("reviewer")
    stale = client.post("/preferences", data={"csrf": "stale", "shortcuts": "on"})
    assert stale.status_code == 403 and "text/html" in stale.headers["content-type"]
    refused = client.post("/preferences/tenant", data={"csrf": csrf, "shortcuts": "on"})
    assert refused.status_code == 403 and "Only an admin" in refused.text
    assert stored(rt) == ([], [])


def test_an_admin_sets_the_tenant_defaults_in_the_console(client, sign_in, rt):
    csrf = sign_in("admin")
    assert 'id="defaults-form"' in client.get("/preferences").text
    saved = client.post("/preferences/tenant", data={"csrf": csrf, "blur_by_default": "on", "video_muted": "on"},
                        follow_redirects=False)
    assert saved.status_code == 303
    assert stored(rt)[1] == [{"blur_by_default": True, "grayscale_after_reveal": False, "video_muted": True,
                              "shortcuts": False}]
    assert form_csrf(client.get("/preferences?saved=tenant").text) == csrf


def test_an_admin_of_other_tenants_is_not_offered_the_default_tenants_form(client, rt):
    url = rt.settings.database_url
    tenants.create(url, "forum", "test")
    tenants.create(url, "blog", "test")
    _, secret = tokens.create(url, "multi-admin", "admin", "test", tenant_names=("forum", "blog"))
    login = client.get("/login")
    client.post("/login", data={"token": secret, "csrf": form_csrf(login.text)})
    page = client.get("/preferences")
    assert page.status_code == 200 and 'id="defaults-form"' not in page.text
    refused = client.post("/preferences/tenant", data={"csrf": form_csrf(page.text), "shortcuts": "on"})
    assert refused.status_code == 404 and "PUT /v1/tenants/{tenant}/review-defaults" in refused.text
    assert stored(rt) == ([], [])
