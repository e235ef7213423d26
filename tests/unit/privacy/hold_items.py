"""Items to hold: submitted (queued) items of a tenant, with a subject, as the tests of holds need them."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from moderation.domain.tenancy import DEFAULT_TENANT_ID
from moderation.infra.db import transaction
from moderation.items import models as m, services as service
from moderation.items.submission import Origin
from moderation.privacy.models import LegalHold
from tests.conftest import jpeg_bytes

_n = itertools.count(1)


def item_of(rt, media_root, subject_id: str | None = None, tenant_id: int = DEFAULT_TENANT_ID) -> str:
    """A new queued item of ``tenant_id`` (distinct content), uploaded by ``subject_id``; its id."""
    n = next(_n)
    (media_root / f"hold-{n}.jpg").write_bytes(jpeg_bytes(width=60 + n, color=(n % 256, 40, 90)))
    return service.submit(f"hold-{n}.jpg", rt=rt, subject_id=subject_id,
                          origin=Origin(tenant_id=tenant_id, actor="test")).item_id


def audit_rows(rt, *actions: m.AuditAction) -> list[m.AuditEvent]:
    """The audit entries of these actions, oldest first."""
    with transaction(rt.settings.database_url) as s:
        return list(s.scalars(select(m.AuditEvent).where(m.AuditEvent.action.in_([a.value for a in actions]))
                              .order_by(m.AuditEvent.id)))


def hold_rows(rt) -> list[LegalHold]:
    with transaction(rt.settings.database_url) as s:
        return list(s.scalars(select(LegalHold).order_by(LegalHold.id)))
