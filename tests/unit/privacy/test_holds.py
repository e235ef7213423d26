"""Legal holds (issue 19.3): add, list and release, each audited; bad input stores nothing; another tenant's
item or hold is "not found"; ``holding`` finds what retention and erasure must skip."""

from __future__ import annotations

import pytest

from moderation.domain.errors import BadInput
from moderation.domain.tenancy import DEFAULT_TENANT_ID, EVERY_TENANT, Scope
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.privacy import holds
from moderation.review.services import Conflict, NotFound
from moderation.tenants import services as tenants
from tests.unit.privacy.hold_items import audit_rows, hold_rows, item_of

HOLD, RELEASE = m.AuditAction.HOLD, m.AuditAction.RELEASE_HOLD
DEFAULT = Scope(tenant_ids=frozenset({DEFAULT_TENANT_ID}))


@pytest.fixture
def other(rt) -> int:
    """A second tenant's id."""
    return tenants.create(rt.settings.database_url, "other", "test")["id"]


def holding(rt, tenant_id: int, item_id: str, subject_id: str | None):
    with transaction(rt.settings.database_url) as s:
        found = holds.holding(s, tenant_id, item_id, subject_id)
        return found.id if found else None


def test_an_item_hold_is_listed_and_audited_on_the_item(rt, media_root):
    item = item_of(rt, media_root, subject_id="user-7")
    hold = holds.add(rt, DEFAULT_TENANT_ID, item_id=item, reason="  court order 12/2026  ", actor="cli:ana")

    assert (hold["item_id"], hold["subject_id"], hold["tenant"]) == (item, None, "default")
    assert (hold["reason"], hold["created_by"], hold["released_at"]) == ("court order 12/2026", "cli:ana", None)
    assert holds.list_(rt, DEFAULT) == [hold]
    [entry] = audit_rows(rt, HOLD)
    assert (entry.item_id, entry.tenant_id, entry.actor) == (item, None, "cli:ana")
    assert entry.reason == f"hold {hold['id']}: court order 12/2026"


def test_a_subject_hold_s_audit_entry_names_its_tenant_and_never_the_subject(rt, other):
    hold = holds.add(rt, other, subject_id="user-7", reason="police request about user-7", actor="cli:ana")

    [row] = hold_rows(rt)
    assert (row.tenant_id, row.item_id, row.subject_id, row.reason) == (other, None, "user-7",
                                                                        "police request about user-7")
    holds.release(rt, hold["id"], EVERY_TENANT, "cli:bo", reason="case closed for user-7")
    added, released = audit_rows(rt, HOLD, RELEASE)
    assert (added.item_id, added.tenant_id, released.item_id, released.tenant_id) == (None, other, None, other)
    assert added.reason == f"hold {hold['id']} on a subject: police request about [subject]"
    assert released.reason == f"hold {hold['id']} on a subject: case closed for [subject]"
    assert released.actor == "cli:bo"


def test_release_keeps_the_hold_listed_with_who_and_when(rt, media_root):
    item = item_of(rt, media_root)
    hold = holds.add(rt, DEFAULT_TENANT_ID, item_id=item, reason="investigation", actor="cli:ana")

    released = holds.release(rt, hold["id"], DEFAULT, "cli:bo")

    assert released["released_by"] == "cli:bo" and released["released_at"] is not None
    assert holds.list_(rt, DEFAULT) == []
    assert holds.list_(rt, DEFAULT, include_released=True) == [released]
    [entry] = audit_rows(rt, RELEASE)
    assert (entry.item_id, entry.reason) == (item, f"hold {hold['id']}")


def test_releasing_twice_is_a_conflict_and_audits_once(rt, media_root):
    hold = holds.add(rt, DEFAULT_TENANT_ID, item_id=item_of(rt, media_root), reason="x", actor="cli:ana")
    holds.release(rt, hold["id"], DEFAULT, "cli:bo")

    with pytest.raises(Conflict, match=f"legal hold {hold['id']} was released already, by cli:bo"):
        holds.release(rt, hold["id"], DEFAULT, "cli:cy")

    assert [e.actor for e in audit_rows(rt, RELEASE)] == ["cli:bo"]
    assert hold_rows(rt)[0].released_by == "cli:bo"


@pytest.mark.parametrize("kwargs, message", [
    ({"item_id": "x", "subject_id": "u", "reason": "r"}, "exactly one of an item id and a subject id"),
    ({"reason": "r"}, "exactly one of an item id and a subject id"),
    ({"subject_id": "u", "reason": ""}, "reason: 1-1000 printable"),
    ({"subject_id": "u", "reason": "   "}, "reason: 1-1000 printable"),
    ({"subject_id": "u", "reason": "x" * 1001}, "reason: 1-1000 printable"),
    ({"subject_id": "u", "reason": "bell\x07"}, "reason: 1-1000 printable"),
    ({"subject_id": "u", "reason": None}, "reason: 1-1000 printable"),
    ({"subject_id": "", "reason": "r"}, "subject: 1-255 printable"),
    ({"subject_id": "u\n2", "reason": "r"}, "subject: 1-255 printable"),
    ({"subject_id": "u" * 256, "reason": "r"}, "subject: 1-255 printable"),
])
def test_bad_input_stores_nothing(rt, kwargs, message):
    with pytest.raises(BadInput, match=message):
        holds.add(rt, DEFAULT_TENANT_ID, actor="cli:ana", **kwargs)
    assert hold_rows(rt) == [] and audit_rows(rt, HOLD) == []


def test_another_tenant_s_item_is_not_found_as_a_missing_one(rt, media_root, other):
    theirs = item_of(rt, media_root, tenant_id=other)
    for item_id in (theirs, "no-such-item"):
        with pytest.raises(NotFound, match=f"no item '{item_id}'"):
            holds.add(rt, DEFAULT_TENANT_ID, item_id=item_id, reason="r", actor="cli:ana")
    assert hold_rows(rt) == [] and audit_rows(rt, HOLD) == []
    assert holds.add(rt, other, item_id=theirs, reason="r", actor="cli:ana")["tenant"] == "other"


def test_another_tenant_s_hold_is_neither_listed_nor_released(rt, other):
    theirs = holds.add(rt, other, subject_id="user-7", reason="r", actor="cli:ana")

    assert holds.list_(rt, DEFAULT, include_released=True) == []
    assert [h["id"] for h in holds.list_(rt, EVERY_TENANT)] == [theirs["id"]]
    for hold_id in (theirs["id"], 999):
        with pytest.raises(NotFound, match=f"no legal hold {hold_id}"):
            holds.release(rt, hold_id, DEFAULT, "cli:bo")
    assert hold_rows(rt)[0].released_at is None and audit_rows(rt, RELEASE) == []


def test_an_item_whose_personal_data_is_gone_cannot_be_held(rt, media_root):
    item = item_of(rt, media_root)
    with transaction(rt.settings.database_url) as s:
        row = s.get(m.Item, item)
        row.purged_at, row.purge_cause = row.created_at, "erasure"
    with pytest.raises(Conflict, match="already removed \\(erasure\\)"):
        holds.add(rt, DEFAULT_TENANT_ID, item_id=item, reason="r", actor="cli:ana")
    assert hold_rows(rt) == []


def test_holding_finds_item_and_subject_holds_not_released_ones(rt, media_root, other):
    held, by_subject, free = (item_of(rt, media_root, subject_id=s) for s in ("user-1", "user-7", "user-2"))
    on_item = holds.add(rt, DEFAULT_TENANT_ID, item_id=held, reason="r", actor="cli:ana")["id"]
    on_subject = holds.add(rt, DEFAULT_TENANT_ID, subject_id="user-7", reason="r", actor="cli:ana")["id"]

    assert holding(rt, DEFAULT_TENANT_ID, held, "user-1") == on_item
    assert holding(rt, DEFAULT_TENANT_ID, by_subject, "user-7") == on_subject
    assert holding(rt, DEFAULT_TENANT_ID, free, "user-2") is None
    assert holds.held_items(rt.settings.database_url, [held, by_subject, free]) == {held: on_item,
                                                                                   by_subject: on_subject}
    holds.release(rt, on_item, DEFAULT, "cli:bo")
    holds.release(rt, on_subject, DEFAULT, "cli:bo")
    assert holding(rt, DEFAULT_TENANT_ID, held, "user-1") is None
    assert holding(rt, DEFAULT_TENANT_ID, by_subject, "user-7") is None
    assert holds.held_items(rt.settings.database_url, [held, by_subject]) == {}


def test_a_subject_hold_is_for_its_tenant_only(rt, media_root, other):
    """The same subject id in another tenant is another person: their items are not held."""
    ours = item_of(rt, media_root, subject_id="user-7")
    theirs = item_of(rt, media_root, subject_id="user-7", tenant_id=other)
    hold = holds.add(rt, other, subject_id="user-7", reason="r", actor="cli:ana")["id"]

    assert holding(rt, DEFAULT_TENANT_ID, ours, "user-7") is None
    assert holding(rt, other, theirs, "user-7") == hold
    assert holds.held_items(rt.settings.database_url, [ours, theirs]) == {theirs: hold}
