"""The console marks held items (issue 19.3): a "Legal hold" badge on the item page and in the queue row, for
a reviewer and an admin (who also sees the hold's number); a released hold, or none, shows no badge."""

from __future__ import annotations

import re

from moderation.domain.tenancy import DEFAULT_TENANT_ID, EVERY_TENANT
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.privacy import holds

BADGE = re.compile(r'<span class="badge badge-hold"[^>]*>([^<]*)</span>')


def queue_badges(html: str) -> dict[str, str]:
    """Per queue row's item link (the id's first 8 characters), the badge's text."""
    return dict(re.findall(r'class="mono">(\w{8})</a>\s*<span class="badge badge-hold"[^>]*>([^<]*)</span>', html))


def test_a_reviewer_sees_the_badge_on_a_held_item_and_its_queue_row(client, sign_in, rt, flagged):
    held, free = flagged(), flagged()
    hold = holds.add(rt, DEFAULT_TENANT_ID, item_id=held, reason="court order", actor="cli:ana")
    sign_in("reviewer")

    assert BADGE.findall(client.get(f"/items/{held}").text) == ["Legal hold"]  # no hold number for a reviewer
    assert BADGE.findall(client.get(f"/items/{free}").text) == []
    assert queue_badges(client.get("/").text) == {held[:8]: "legal hold"}
    assert "court order" not in client.get(f"/items/{held}").text
    holds.release(rt, hold["id"], EVERY_TENANT, "cli:ana")
    assert BADGE.findall(client.get(f"/items/{held}").text) == []
    assert queue_badges(client.get("/").text) == {}


def test_a_subject_hold_marks_the_subject_s_items_and_an_admin_sees_its_number(client, sign_in, rt, flagged):
    item = flagged()
    with_subject(rt, item, "user-7")
    hold = holds.add(rt, DEFAULT_TENANT_ID, subject_id="user-7", reason="police request", actor="cli:ana")
    sign_in("admin")
    assert BADGE.findall(client.get(f"/items/{item}").text) == [f"Legal hold {hold['id']}"]


def with_subject(rt, item_id: str, subject_id: str) -> None:
    with transaction(rt.settings.database_url) as s:
        s.get(m.Item, item_id).subject_id = subject_id
