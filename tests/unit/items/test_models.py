"""AuditAction is the complete list of audit actions: an event with any other action cannot be made."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from moderation.infra.db import transaction
from moderation.items import models as m


def test_an_audit_event_with_an_unknown_action_is_refused_and_nothing_is_stored(sqlite_url):
    with pytest.raises(ValueError, match="'resent' is not a valid AuditAction"):
        with transaction(sqlite_url) as s:
            s.add(m.AuditEvent(actor="reaper", action="resent"))
    with transaction(sqlite_url) as s:
        assert s.scalars(select(m.AuditEvent)).all() == []


def test_a_known_action_is_stored_as_its_plain_name(sqlite_url):
    with transaction(sqlite_url) as s:
        s.add(m.AuditEvent(actor="cli:ana", action=m.AuditAction.TOKEN_CREATE))
        s.add(m.AuditEvent(actor="reaper", action="resend"))  # a plain string naming a member is accepted
    with transaction(sqlite_url) as s:
        stored = s.scalars(select(m.AuditEvent.action).order_by(m.AuditEvent.id)).all()
    assert stored == ["token_create", "resend"]
    assert [type(a) for a in stored] == [str, str]
