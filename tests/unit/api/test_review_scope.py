"""Review over HTTP and in the console is scoped by the token's tenants: another tenant's item is 404 (never
403), so a token never learns it exists; leases, reviews and the audit trail name the token."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.tenants import services as tenants, tokens
from tests.unit.api.conftest import form_csrf


@pytest.fixture
def two(rt, flagged):
    """(default's flagged item, tenant b's flagged item)."""
    b = tenants.create(rt.settings.database_url, "b", "test")["id"]
    in_a, in_b = flagged(), flagged()
    with transaction(rt.settings.database_url) as s:
        s.execute(update(m.Item).where(m.Item.id == in_b).values(tenant_id=b))
    return in_a, in_b


@pytest.fixture
def token(rt):
    def make(role: str, name: str, *names: str) -> tuple[str, dict[str, str]]:
        token_id, secret = tokens.create(rt.settings.database_url, name, role, "test", tenant_names=names)
        return f"{name} (token {token_id})", {"Authorization": f"Bearer {secret}"}

    return make


def owner(rt, item_id: str) -> str | None:
    with transaction(rt.settings.database_url) as s:
        return s.get(m.Item, item_id).lease_owner


def test_a_reviewer_sees_and_claims_only_their_tenants_items(client, rt, two, token):
    in_a, in_b = two
    actor, rita = token("reviewer", "rita", "default")
    assert [r["id"] for r in client.get("/v1/review/queue", headers=rita).json()["items"]] == [in_a]
    claimed = client.post("/v1/review/claim", headers=rita)
    assert claimed.json()["item"]["id"] == in_a and claimed.json()["lease"]["owner"] == actor
    client.post(f"/v1/items/{in_a}/review", json={"verdict": "approved", "reason": "fine"}, headers=rita)
    assert client.post("/v1/review/claim", headers=rita).status_code == 204  # b's item is never offered
    assert owner(rt, in_b) is None
    _, both = token("reviewer", "bo", "default", "b")
    assert [r["id"] for r in client.get("/v1/review/queue", headers=both).json()["items"]] == [in_b]
    assert client.get("/v1/review/queue?tenant=default", headers=both).json()["items"] == []
    refused = client.get("/v1/review/queue?tenant=b", headers=rita)  # a tenant it does not act for: unknown
    assert refused.status_code == 422 and "no tenant named 'b' that this token acts for" in refused.text


@pytest.mark.parametrize("role", ["reviewer", "admin"])
def test_deciding_or_releasing_another_tenant_s_item_is_404_as_a_missing_one(client, rt, two, token, role):
    in_a, in_b = two
    bob_actor, bob = token("reviewer", "bob", "b")
    client.post("/v1/review/claim", headers=bob)
    _, caller = token(role, "rita", "default")
    body = {"verdict": "rejected", "reason": "x"}
    for path, json in ((f"/v1/items/{in_b}/review", body), (f"/v1/items/{in_b}/release", None)):
        outside = client.post(path, json=json, headers=caller)
        missing = client.post(path.replace(in_b, "f" * 36), json=json, headers=caller)
        assert outside.status_code == missing.status_code == 404, path
        assert outside.json()["detail"].replace(in_b, "X") == missing.json()["detail"].replace("f" * 36, "X")
    assert owner(rt, in_b) == bob_actor
    decided = client.post(f"/v1/items/{in_b}/review", json=body, headers=bob)
    assert decided.status_code == 200 and decided.json()["review"]["reviewer"] == bob_actor


def test_review_actions_are_audited_under_the_token(client, rt, two, token):
    in_a, _ = two
    actor, rita = token("reviewer", "rita", "default")
    client.post("/v1/review/claim", headers=rita)
    client.post(f"/v1/items/{in_a}/review", json={"verdict": "approved", "reason": "fine"}, headers=rita)
    with transaction(rt.settings.database_url) as s:
        rows = s.execute(select(m.AuditEvent.action, m.AuditEvent.actor).where(m.AuditEvent.item_id == in_a)
                         .where(m.AuditEvent.action.in_(["claim", "review"])).order_by(m.AuditEvent.id)).all()
    assert [tuple(r) for r in rows] == [("claim", actor), ("review", actor)]


def _sign_in(client, secret_headers) -> str:
    login = client.get("/login")
    secret = secret_headers["Authorization"].removeprefix("Bearer ")
    client.post("/login", data={"token": secret, "csrf": form_csrf(login.text)}, follow_redirects=False)
    return form_csrf(client.get("/").text)


def test_the_console_shows_and_acts_on_only_the_token_s_tenants(client, rt, two, token):
    in_a, in_b = two
    bob_actor, bob = token("reviewer", "bob", "b")
    client.post("/v1/review/claim", headers=bob)
    _, rita = token("admin", "rita", "default")
    csrf = _sign_in(client, rita)
    queue = client.get("/").text
    assert in_a in queue and in_b not in queue
    assert client.get(f"/items/{in_b}").status_code == 404
    assert client.get(f"/media/{in_b}").status_code == 404
    for action, data in (("claim", {}), ("release", {}), ("review", {"verdict": "approved", "reason": "x"})):
        response = client.post(f"/items/{in_b}/{action}", data={"csrf": csrf, **data}, follow_redirects=False)
        assert response.status_code == 404, action
    assert owner(rt, in_b) == bob_actor
    assert in_b not in client.get("/audit").text
    taken = client.post("/next", data={"csrf": csrf}, follow_redirects=False)
    assert taken.headers["location"] == f"/items/{in_a}"
