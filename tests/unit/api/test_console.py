"""The review console: sign-in, cookie flags, CSRF, queue, item page, verdicts, audit."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from moderation.tenants import tokens
from moderation.items import models as m
from moderation.infra.db import transaction
from moderation.review.models import Review
from tests.unit.api.conftest import form_csrf

ALICE = "alice (token 1)"  # the signed-in reviewer's token as leases and reviews name it (Principal.actor)


def item_of(rt, item_id: str) -> m.Item:
    with transaction(rt.settings.database_url) as s:
        return s.get(m.Item, item_id)


def test_pages_need_a_session(client, flagged):
    item_id = flagged()
    for path in ("/", f"/items/{item_id}", f"/media/{item_id}", "/audit", "/audit.csv"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/login", path
    assert client.post("/next", follow_redirects=False).headers["location"] == "/login"


def test_sign_in_sets_an_httponly_samesite_cookie(client, make_token):
    login = client.get("/login")
    assert "modq_login=" in login.headers["set-cookie"]
    response = client.post("/login", data={"token": make_token("reviewer"), "csrf": form_csrf(login.text)},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("modq_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie  # plain http here
    assert "alice" in client.get("/").text


def test_cookie_is_secure_over_https(app, make_token):
    with TestClient(app, base_url="https://modq.example") as secure:
        login = secure.get("/login")
        response = secure.post("/login", data={"token": make_token("reviewer"), "csrf": form_csrf(login.text)},
                               follow_redirects=False)
    assert "Secure" in next(c for c in response.headers.get_list("set-cookie") if c.startswith("modq_session="))


@pytest.mark.parametrize("role, token, status, message", [
    ("ingest", None, 403, "ingest token"),
    (None, "modq_wrong", 401, "not valid"),
])
def test_sign_in_refusals(client, make_token, role, token, status, message):
    login = client.get("/login")
    token = token or make_token(role)
    response = client.post("/login", data={"token": token, "csrf": form_csrf(login.text)})
    assert response.status_code == status and message in response.text
    assert "modq_session" not in response.headers.get("set-cookie", "")


def test_sign_in_form_is_csrf_protected(client, make_token):
    client.get("/login")
    response = client.post("/login", data={"token": make_token("reviewer"), "csrf": "forged"})
    assert response.status_code == 403 and "expired" in response.text


def test_queue_page(client, sign_in, flagged, rt):
    item_id = flagged(external_id="<script>alert(1)</script>")
    sign_in()
    page = client.get("/")
    assert page.status_code == 200 and item_id[:8] in page.text and "Hate Symbols 70%" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert" not in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["cache-control"] == "no-store"
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text) and ' style="' not in page.text  # CSP-clean


def test_queue_filter_any_media_type_is_no_filter(client, sign_in, flagged):
    item_id = flagged()
    csrf = sign_in()
    # The queue form sends every field: "any" media type is an empty value, the same as no filter.
    page = client.get("/", params={"verdict": "flagged", "label": "", "media_type": ""})
    assert page.status_code == 200 and item_id[:8] in page.text
    opened = client.post("/next", data={"csrf": csrf, "media_type": "", "label": ""}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == f"/items/{item_id}"
    assert client.get("/", params={"media_type": "gif"}).status_code == 422  # a real value is still checked


def test_forms_need_the_csrf_token(client, sign_in, flagged):
    flagged()
    sign_in()
    assert client.post("/next", data={"csrf": "forged"}).status_code == 403
    assert client.post("/next", data={}).status_code == 403


def test_review_flow_next_item_then_verdict(client, sign_in, flagged, rt):
    first, second = flagged(), flagged("Graphic Violence", 60)
    csrf = sign_in()
    opened = client.post("/next", data={"csrf": csrf}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == f"/items/{first}"
    page = client.get(f"/items/{first}").text
    assert f'src="/media/{first}"' in page and 'class="media blurred"' in page
    assert "Hate Symbols" in page and "<meter" in page and "rule: Hate Symbols" in page
    assert 'id="review-form"' in page and media_path_hidden(page, rt)

    done = client.post(f"/items/{first}/review", data={"csrf": csrf, "verdict": "rejected", "reason": "hateful"},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/items/{second}?undo={first}"  # the next; Undo
    assert item_of(rt, first).status == "rejected"
    with transaction(rt.settings.database_url) as s:
        row = s.scalar(select(Review).where(Review.item_id == first))
    assert (row.reviewer, row.verdict, row.reason) == (ALICE, "rejected", "hateful")
    assert item_of(rt, second).lease_owner == ALICE

    last = client.post(f"/items/{second}/review", data={"csrf": csrf, "verdict": "approved", "reason": "news"},
                       follow_redirects=False)
    assert last.headers["location"] == f"/?notice=empty&undo={second}"
    assert "Nothing left to claim" in client.get("/?notice=empty").text


def media_path_hidden(page: str, rt) -> bool:
    return str(rt.settings.media_root) not in page and "file://" not in page


def test_skip_returns_the_item_to_the_queue(client, sign_in, flagged, rt):
    first, second = flagged(), flagged()
    csrf = sign_in()
    client.post("/next", data={"csrf": csrf})
    skipped = client.post("/next", data={"csrf": csrf, "skip": first}, follow_redirects=False)
    assert skipped.headers["location"] == f"/items/{second}"
    assert item_of(rt, first).lease_owner is None


def test_someone_elses_item_cannot_be_reviewed(client, sign_in, flagged, rt):
    from moderation.review import services as review

    item_id = flagged()
    review.claim(rt, "bob")
    csrf = sign_in()
    page = client.get(f"/items/{item_id}").text
    assert "Leased to <strong>bob</strong>" in page and 'id="review-form"' not in page
    response = client.post(f"/items/{item_id}/review", data={"csrf": csrf, "verdict": "approved", "reason": "x"})
    assert response.status_code == 409 and "leased to bob" in response.text
    assert item_of(rt, item_id).status == "flagged"


def test_claim_a_specific_item_and_release_it(client, sign_in, flagged, rt):
    older, item_id = flagged(), flagged()
    csrf = sign_in()
    assert 'id="claim-form"' in client.get(f"/items/{item_id}").text
    client.post(f"/items/{item_id}/claim", data={"csrf": csrf})
    assert item_of(rt, item_id).lease_owner == ALICE and item_of(rt, older).lease_owner is None
    client.post(f"/items/{item_id}/release", data={"csrf": csrf})
    assert item_of(rt, item_id).lease_owner is None


def test_claiming_another_item_while_holding_one_is_refused(client, sign_in, flagged, rt):
    held, other = flagged(), flagged()
    csrf = sign_in()
    client.post(f"/items/{held}/claim", data={"csrf": csrf})
    refused = client.post(f"/items/{other}/claim", data={"csrf": csrf})
    assert refused.status_code == 409
    assert f"you hold a lease on item {held}: review or release it before claiming another" in refused.text
    assert item_of(rt, other).lease_owner is None and item_of(rt, held).lease_owner == ALICE


def test_media_through_the_console(client, sign_in, flagged):
    item_id = flagged()
    sign_in()
    response = client.get(f"/media/{item_id}")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"


def test_audit_page_and_csv(client, sign_in, flagged):
    item_id = flagged()
    sign_in()
    page = client.get(f"/audit?item_id={item_id}")
    assert page.status_code == 200 and "decide" in page.text and "submit" in page.text
    csv_text = client.get(f"/audit.csv?item_id={item_id}").text
    assert csv_text.startswith("id,at,item_id,actor,action") and "decide" in csv_text


def test_missing_item_page(client, sign_in):
    sign_in()
    assert client.get("/items/nope").status_code == 404


def test_sign_out_and_revocation_end_the_session(client, sign_in, rt):
    csrf = sign_in()
    client.post("/logout", data={"csrf": csrf})
    assert client.get("/", follow_redirects=False).status_code == 303
    sign_in("reviewer", "carol")
    assert client.get("/", follow_redirects=False).status_code == 200
    tokens.revoke(rt.settings.database_url, "carol", actor="test")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_docs_need_a_token_or_a_session(client, auth, sign_in):
    assert client.get("/openapi.json").status_code == 401
    assert client.get("/docs").status_code == 401
    schema = client.get("/openapi.json", headers=auth["ingest"]).json()
    assert "/v1/items" in schema["paths"] and "/" not in schema["paths"]
    assert schema["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    sign_in()
    assert "swagger" in client.get("/docs").text.lower()
