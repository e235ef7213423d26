"""`/v1/holds` (issue 19.3): admins add, list and release legal holds; a reviewer is refused (403), another
tenant's admin gets 404 as for a missing item or hold, and bad input is a 422 naming the field, nothing stored."""

from __future__ import annotations

import pytest

from moderation.items import models as m
from moderation.tenants import services as tenants
from tests.unit.privacy.hold_items import audit_rows, hold_rows, item_of


@pytest.fixture
def other(rt) -> int:
    return tenants.create(rt.settings.database_url, "other", "test")["id"]


def test_an_admin_adds_lists_and_releases_a_hold(client, token, rt, media_root):
    admin = token("admin", "root")
    item = item_of(rt, media_root)

    added = client.post("/v1/holds", json={"item_id": item, "reason": "court order"}, headers=admin)
    listed = client.get("/v1/holds", headers=admin)
    released = client.post(f"/v1/holds/{added.json()['id']}/release", json={"reason": "lifted"}, headers=admin)
    again = client.post(f"/v1/holds/{added.json()['id']}/release", headers=admin)

    assert added.status_code == 201, added.text
    hold = added.json()
    assert (hold["item_id"], hold["tenant"], hold["created_by"]) == (item, "default", "root (token 1)")
    assert listed.json() == [hold]
    assert released.status_code == 200 and released.json()["released_by"] == "root (token 1)"
    assert again.status_code == 409 and "released already" in again.json()["message"]
    assert client.get("/v1/holds", headers=admin).json() == []
    assert [h["id"] for h in client.get("/v1/holds?include_released=true", headers=admin).json()] == [hold["id"]]
    assert [e.reason for e in audit_rows(rt, m.AuditAction.HOLD, m.AuditAction.RELEASE_HOLD)] == [
        f"hold {hold['id']}: court order", f"hold {hold['id']}: lifted"]


def test_a_reviewer_may_not(client, token, rt):
    reviewer = token("reviewer", "alice")
    assert client.get("/v1/holds", headers=reviewer).status_code == 403
    assert client.post("/v1/holds", json={"subject_id": "u", "reason": "r"}, headers=reviewer).status_code == 403
    assert client.post("/v1/holds/1/release", headers=reviewer).status_code == 403
    assert hold_rows(rt) == []


def test_another_tenant_s_admin_gets_404(client, token, rt, media_root, other):
    ours, theirs = token("admin", "root"), token("admin", "intruder", "other")
    item = item_of(rt, media_root)
    hold = client.post("/v1/holds", json={"subject_id": "user-7", "reason": "r"}, headers=ours).json()

    held = client.post("/v1/holds", json={"item_id": item, "reason": "r"}, headers=theirs)
    missing = client.post("/v1/holds", json={"item_id": "no-such-item", "reason": "r"}, headers=theirs)
    released = client.post(f"/v1/holds/{hold['id']}/release", headers=theirs)

    assert (held.status_code, held.json()["message"]) == (404, f"no item {item!r}")
    assert (missing.status_code, missing.json()["message"]) == (404, "no item 'no-such-item'")
    assert (released.status_code, released.json()["message"]) == (404, f"no legal hold {hold['id']}")
    assert client.get("/v1/holds?include_released=true", headers=theirs).json() == []
    assert [h.released_at for h in hold_rows(rt)] == [None]


def test_a_token_for_every_tenant_holds_an_item_in_its_own_tenant(client, token, rt, media_root, other):
    item = item_of(rt, media_root, tenant_id=other)
    every = token("admin", "root", "*")
    added = client.post("/v1/holds", json={"item_id": item, "reason": "r"}, headers=every)
    named = client.post("/v1/holds?tenant=default", json={"item_id": item, "reason": "r"}, headers=every)
    subject = client.post("/v1/holds", json={"subject_id": "u", "reason": "r"}, headers=every)
    assert added.status_code == 201 and added.json()["tenant"] == "other"
    assert named.status_code == 404  # the item is not the named tenant's
    assert subject.status_code == 422 and "?tenant=NAME" in subject.json()["message"]
    assert len(hold_rows(rt)) == 1


@pytest.mark.parametrize("body, where", [
    ({"reason": "r"}, "exactly one of item_id and subject_id"),
    ({"item_id": "i", "subject_id": "u", "reason": "r"}, "exactly one of item_id and subject_id"),
    ({"subject_id": "u"}, "reason: Field required"),
    ({"subject_id": "u", "reason": ""}, "reason: String should have at least 1 character"),
    ({"subject_id": "u", "reason": "x" * 1001}, "reason: String should have at most 1000 characters"),
    ({"subject_id": "u", "reason": "   "}, "reason: 1-1000 printable characters"),
    ({"subject_id": "u\x07", "reason": "r"}, "subject: 1-255 printable characters"),
])
def test_bad_input_is_422_and_stores_nothing(client, token, rt, body, where):
    response = client.post("/v1/holds", json=body, headers=token("admin", "root"))
    assert response.status_code == 422 and where in response.json()["message"], response.text
    assert hold_rows(rt) == [] and audit_rows(rt, m.AuditAction.HOLD) == []
