"""Stream stored analyses (with their recorded and reviewed verdicts) for replay, per tenant.

A tenant's replay reads only its items; the deployment's (tenant None) the items
of the tenants its policy decides: those without a policy of their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import func, select

from moderation.domain.errors import ConfigError
from moderation.domain.labels import ModerationLabel
from moderation.policy.replay import Row
from moderation.policy.versions import with_own_policy
from moderation.items import models as m
from moderation.infra.db import transaction
from moderation.review.models import Review

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str) -> timedelta:
    """'7d', '12h', '30m', '2w'."""
    match = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text or "")
    if not match:
        raise ConfigError(f"--since {text!r}: use a number and a unit, like 7d, 12h, 30m or 2w")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def decided_by(tenant_id: int | None):
    """The condition on ``Item`` for the items the policy of ``tenant_id`` decides (None: the deployment's,
    which decides the items of every tenant without a policy of its own)."""
    if tenant_id is None:
        return m.Item.tenant_id.not_in(with_own_policy())
    return m.Item.tenant_id == tenant_id


def rows(database_url: str, since: datetime | None = None, batch: int = 2000,
         reviewed_only: bool = False, tenant_id: int | None = None) -> Iterator[Row]:
    """Decided items' analyses (``reviewed_only``: those a reviewer judged) of the items ``tenant_id``'s
    policy decides (``decided_by``), streamed (yield_per) in one read transaction."""
    query = (select(m.Analysis.provider, m.Analysis.labels, m.Analysis.min_confidence, m.Decision.verdict,
                    Review.verdict)
             .join(m.Analysis, m.Analysis.id == m.Decision.analysis_id)
             .join(m.Item, m.Item.id == m.Decision.item_id)
             .join(Review, Review.item_id == m.Decision.item_id, isouter=not reviewed_only)
             .where(decided_by(tenant_id)))
    if since is not None:
        query = query.where(m.Decision.decided_at >= since)
    from_dict = ModerationLabel.from_dict
    with transaction(database_url) as s:
        for provider, labels, min_conf, verdict, truth in s.execute(query.execution_options(yield_per=batch)):
            yield Row(provider, [from_dict(d) for d in labels or ()], min_conf or 0.0, verdict, truth)


def count(database_url: str, since: datetime | None = None, tenant_id: int | None = None) -> int:
    """How many rows ``rows(database_url, since, tenant_id=)`` streams: the total of ``simulate``'s progress bar."""
    query = (select(func.count()).select_from(m.Decision)
             .join(m.Analysis, m.Analysis.id == m.Decision.analysis_id)
             .join(m.Item, m.Item.id == m.Decision.item_id)
             .outerjoin(Review, Review.item_id == m.Decision.item_id)
             .where(decided_by(tenant_id)))
    if since is not None:
        query = query.where(m.Decision.decided_at >= since)
    with transaction(database_url) as s:
        return s.scalar(query)
