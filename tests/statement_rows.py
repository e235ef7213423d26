"""Pending statements of reasons written straight into the outbox (``statements``), for the submission tests:
each on its own rejected item, with a body ``build_statement`` made (valid by the fake database's rules)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from moderation.domain import transparency_config as tc
from moderation.domain.statements import Detection, StatementFacts, build_statement
from moderation.infra.db import transaction
from moderation.infra.schema import Tenant
from moderation.items import models as m
from moderation.transparency.models import AUTOMATIC, Statement

BAD_CATEGORY = "STATEMENT_CATEGORY_NOT_ONE"  # refused by the database: not in its enumeration


def body_for(tenant: str, item_id: str) -> dict[str, Any]:
    facts = StatementFacts(tenant=tenant, item_id=item_id, media_type="image", content_date=date(2026, 11, 29),
                           application_date=date(2026, 11, 30), detections=(Detection("Violence", 97.3),),
                           policy_version="560b6f44da96")
    return build_statement(facts, tc.DEFAULT)


def tenant_named(database_url: str, name: str) -> int:
    with transaction(database_url) as s:
        found = s.scalar(select(Tenant.id).where(Tenant.name == name))
        if found is None:
            tenant = Tenant(name=name, created_by="test")
            s.add(tenant)
            s.flush()
            found = tenant.id
    return found


def add_statements(database_url: str, n: int, tenant: str = "default", hold_until: datetime | None = None,
                   invalid: frozenset[int] = frozenset(), created_at: datetime | None = None) -> list[str]:
    """``n`` pending statements; those at the indexes in ``invalid`` have a category the database refuses.
    Their puids, in insertion (and sending) order."""
    tenant_id = tenant_named(database_url, tenant)
    puids = []
    with transaction(database_url) as s:
        for index in range(n):
            item = m.Item(id=str(uuid.uuid4()), media_uri=f"s3://bucket/{uuid.uuid4()}.jpg", media_type="image",
                          status=m.REJECTED, verdict=m.REJECTED, policy_version="p1", tenant_id=tenant_id)
            s.add(item)
            s.flush()
            body = body_for(tenant, item.id)
            if index in invalid:
                body["category"] = BAD_CATEGORY
            extra = {"created_at": created_at} if created_at else {}
            s.add(Statement(puid=body["puid"], tenant_id=tenant_id, item_id=item.id, decision=AUTOMATIC,
                            decision_ref="1", body=body, hold_until=hold_until, **extra))
            puids.append(body["puid"])
    return puids


def rows_by_puid(database_url: str) -> dict[str, Statement]:
    with transaction(database_url) as s:
        rows = list(s.scalars(select(Statement)))
        s.expunge_all()
    return {row.puid: row for row in rows}
