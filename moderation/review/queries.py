"""The review queue in SQL: which items await a person, filtered, most urgent first, then oldest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select, true, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from moderation.domain import taxonomy
from moderation.domain.tenancy import EVERY_TENANT, Scope
from moderation.items import models as m
from moderation.review import keyset
from moderation.review.models import Review

# Automatic verdicts a person can review: flagged items wait for one;
# rejected items may be checked (and overturned) until reviewed once.
REVIEWABLE = (m.FLAGGED, m.REJECTED)
SOURCES = ("notice",)  # QueueFilter.source


@dataclass(frozen=True)
class QueueFilter:
    verdict: str = m.FLAGGED
    label: str | None = None  # matches the label or any descendant detected on the item
    media_type: str | None = None
    min_age: int | None = None  # seconds since submission, at least
    max_age: int | None = None  # seconds since submission, at most
    scope: Scope = EVERY_TENANT  # the tenants whose items the reviewer may see (their token's, or narrower)
    # The senior queue (issue 17.6): only escalated items, of either verdict (``verdict`` does not apply), by
    # priority then escalation time; the reviewers' queue (False) never lists them.
    escalated: bool = False
    # "notice": only items with an open notice, of either verdict (``verdict`` does not apply: a notice on an item
    # rejected automatically waits for a person too); trusted flaggers' rank first anyway.
    source: str | None = None

    def __post_init__(self) -> None:
        if self.source is not None and self.source not in SOURCES:
            raise ValueError(f"source: {self.source!r} is not one of {', '.join(SOURCES)}")


def pending(dialect: str, f: QueueFilter, now: datetime, after: keyset.Key | None = None) -> Select:
    """Items awaiting review that match ``f``, of the tenants in its scope, in ``keyset.ORDER``: by
    ``review_priority`` (unranked last), then oldest first (ties by id); ``after``: those after that row."""
    query = select(m.Item).where(awaiting_review(), in_scope(f.scope), *in_queue(f))
    if f.label:
        query = query.where(_has_label(dialect, f.label))
    if f.media_type:
        query = query.where(m.Item.media_type == f.media_type)
    if f.source == "notice":
        query = query.where(has_open_notice())
    if f.min_age is not None:
        query = query.where(m.Item.created_at <= now - timedelta(seconds=f.min_age))
    if f.max_age is not None:
        query = query.where(m.Item.created_at >= now - timedelta(seconds=f.max_age))
    if after is not None:
        query = query.where(keyset.after(after, keyset.time_of(f.escalated)))
    return query.order_by(*keyset.order(f.escalated))


def in_queue(f: QueueFilter) -> tuple[ColumnElement[bool], ...]:
    """The escalated queue holds escalated items, whatever their verdict; the reviewers' queue, the others (the
    notice queue: of either verdict)."""
    if f.escalated:
        return (m.Item.escalated_at.is_not(None),)
    if f.source == "notice":
        return (m.Item.escalated_at.is_(None),)
    return (m.Item.status == f.verdict, m.Item.escalated_at.is_(None))


def awaiting_review() -> ColumnElement[bool]:
    return and_(m.Item.status.in_(REVIEWABLE), ~exists().where(Review.item_id == m.Item.id))


def has_open_notice() -> ColumnElement[bool]:
    """An open notice (Art. 16 DSA) is on the item: ``items.notice_open_at``, kept by transparency."""
    return m.Item.notice_open_at.is_not(None)


def notice_open_on(item_id: str) -> Select:
    """Whether the item has an open notice: what asks for a person's decision, not a re-evaluation's."""
    return select(m.Item.notice_open_at.is_not(None)).where(m.Item.id == item_id)


def in_scope(scope: Scope) -> ColumnElement[bool]:
    """The item belongs to a tenant ``scope`` covers."""
    return true() if scope.all else m.Item.tenant_id.in_(sorted(scope.tenant_ids))


def lease_free(now: datetime) -> ColumnElement[bool]:
    return or_(m.Item.lease_expires_at.is_(None), m.Item.lease_expires_at <= now)


def held_by(reviewer: str, now: datetime) -> ColumnElement[bool]:
    return and_(m.Item.lease_owner == reviewer, m.Item.lease_expires_at > now)


def canonical_label(name: str) -> str:
    known = taxonomy.lookup(name)
    return known.name if known else name


def _has_label(dialect: str, label: str) -> ColumnElement[bool]:
    """The item's analysis lists ``label``; ancestors are listed too, so an L1
    name matches every item with a detection under it."""
    name = canonical_label(label)
    if dialect == "postgresql":
        matches = type_coerce(m.Analysis.labels, JSONB).contains([{"Name": name}])
    elif dialect == "sqlite":
        entries = func.json_each(m.Analysis.labels).table_valued("value")
        named = func.json_extract(entries.c.value, "$.Name") == name
        matches = exists(select(true()).select_from(entries).where(named))
    else:
        return false()
    return m.Item.analysis_id.in_(select(m.Analysis.id).where(matches))
