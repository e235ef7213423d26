"""GET /v1/items/{item_id}/statement (issue 18.2): the item's tenant reads its statement of reasons; another
tenant's item, a missing one and one never restricted are the same 404."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from moderation.domain.tenancy import EVERY_TENANT
from moderation.infra.db import transaction
from moderation.review import services as review, undo as undos
from moderation.tenants import services as tenants
from moderation.transparency.models import Statement
from tests.fakes.transparency_rules import validate_statement


def stored(rt, item_id: str) -> Statement:
    with transaction(rt.settings.database_url) as s:
        return s.scalars(select(Statement).where(Statement.item_id == item_id)).one()


@pytest.mark.parametrize("role", ["ingest", "reviewer", "admin"])
def test_the_items_tenant_reads_its_statement(client, auth, rt, flagged, role):
    item_id = flagged("Hate Symbols", 95)  # rejected automatically
    row = stored(rt, item_id)

    response = client.get(f"/v1/items/{item_id}/statement", headers=auth[role])

    assert response.status_code == 200, response.text
    got = response.json()
    assert {k: got[k] for k in ("puid", "decision", "state", "sent_at", "errors")} == {
        "puid": row.puid, "decision": "automatic", "state": "pending", "sent_at": None, "errors": None}
    assert got["statement"] == row.body and validate_statement(got["statement"]) == {}
    assert got["created_at"].startswith(row.created_at.isoformat()[:19])


def test_another_tenants_item_is_404_like_a_missing_one(client, rt, flagged, token):
    tenants.create(rt.settings.database_url, "other", "test")
    item_id = flagged("Hate Symbols", 95)
    theirs = token("ingest", "other-backend", "other")

    foreign = client.get(f"/v1/items/{item_id}/statement", headers=theirs)
    missing = client.get("/v1/items/no-such-item/statement", headers=theirs)

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json().keys() == missing.json().keys()
    assert foreign.json() == {**missing.json(), **{k: v.replace("no-such-item", item_id) for k, v in
                                                    missing.json().items() if isinstance(v, str)}}
    assert "puid" not in foreign.text and stored(rt, item_id).puid not in foreign.text


def test_an_item_with_no_restriction_is_404(client, auth, rt, flagged):
    approved = flagged(None)
    flagged_only = flagged("Hate Symbols", 70)
    for item_id in (approved, flagged_only):
        response = client.get(f"/v1/items/{item_id}/statement", headers=auth["ingest"])
        assert response.status_code == 404, response.text


def test_an_undone_review_leaves_no_statement_to_read(client, auth, rt, flagged):
    item_id = flagged("Hate Symbols", 70)
    review.claim(rt, "alice (token 2)", item_id=item_id)
    review.review(rt, item_id, "alice (token 2)", "rejected", "hate symbol", scope=EVERY_TENANT)
    assert client.get(f"/v1/items/{item_id}/statement", headers=auth["ingest"]).json()["decision"] == "review"

    undos.undo(rt, item_id, "alice (token 2)", scope=EVERY_TENANT)

    assert client.get(f"/v1/items/{item_id}/statement", headers=auth["ingest"]).status_code == 404


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
def test_no_or_a_bad_token_is_401(client, rt, flagged, headers):
    item_id = flagged("Hate Symbols", 95)
    assert client.get(f"/v1/items/{item_id}/statement", headers=headers).status_code == 401
