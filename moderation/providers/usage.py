"""Cost accounting: every provider call an item's task makes is recorded.

``instrumented.InstrumentedProvider`` already sees every provider call; inside
``recording(...)`` it also notes each one here. The notes are written in the
transaction that records the item's decision (``take`` from
``outcomes.record``: no extra round trip on the hot path); whatever is left
when ``recording`` ends (a failed or retried call, a duplicate delivery) is
written in a transaction of its own. Outside ``recording`` nothing is noted
(a benchmark calling a provider directly, say).
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator

import structlog
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.providers.models import AVOIDED, BANKED, REUSED, ProviderCall

log = structlog.get_logger("modq.usage")
PAID_PROVIDER = "rekognition"
IMAGE_OPERATION = "DetectModerationLabels"
ANIMATION = "animation"  # an image item with several frames: one call per frame analysed (``note_media_type``)
IMAGE_MEDIA = ("image", ANIMATION)


@dataclass
class Tally:
    item_id: str
    media_type: str
    calls: Counter = field(default_factory=Counter)  # (provider, operation, outcome) -> calls
    video_seconds: dict = field(default_factory=dict)  # (provider, operation, outcome) -> seconds

    def rows(self) -> list[ProviderCall]:
        keys = list(self.calls) + [k for k in self.video_seconds if k not in self.calls]
        return [ProviderCall(item_id=self.item_id, media_type=self.media_type, provider=p, operation=op,
                             outcome=outcome, calls=self.calls.get((p, op, outcome), 0),
                             video_seconds=self.video_seconds.get((p, op, outcome), 0.0))
                for p, op, outcome in keys]

    def clear(self) -> None:
        self.calls.clear()
        self.video_seconds.clear()


_ADD = insert(ProviderCall.__table__)  # built once: ``store`` runs for every item
_current: ContextVar[Tally | None] = ContextVar("modq_usage", default=None)


@contextmanager
def recording(database_url: str, item_id: str, media_type: str) -> Iterator[Tally]:
    """Note the provider calls made inside; write what the decision's transaction did not take."""
    tally = Tally(item_id, media_type)
    token = _current.set(tally)
    try:
        yield tally
    finally:
        _current.reset(token)
        leftover = tally.rows()
        if leftover:
            _write(database_url, leftover)


def note_call(provider: str, operation: str, outcome: str, calls: int = 1) -> None:
    """One call (or ``calls`` calls) just made; a no-op outside ``recording``."""
    tally = _current.get()
    if tally is not None:
        tally.calls[(provider, operation, outcome)] += calls


def note_media_type(media_type: str) -> None:
    """What the item turned out to be once read: an image that is an animation (or a multi-page TIFF) has
    its calls recorded as ``animation``, one per frame, so `modq stats` can say how many were frames."""
    tally = _current.get()
    if tally is not None:
        tally.media_type = media_type


def note_video_seconds(provider: str, operation: str, seconds: float) -> None:
    """Minutes of video the provider analysed (billed per minute, not per call)."""
    tally = _current.get()
    if tally is not None and seconds > 0:
        key = (provider, operation, "ok")
        tally.video_seconds[key] = tally.video_seconds.get(key, 0.0) + seconds


def take() -> list[ProviderCall]:
    """The noted calls as rows, for the caller's transaction; the tally starts afresh."""
    tally = _current.get()
    if tally is None:
        return []
    rows = tally.rows()
    tally.clear()
    return rows


def store(s: Session, rows: list[ProviderCall]) -> None:
    """Write ``take``'s rows in the caller's transaction: one INSERT (no ORM flush; this runs once per item)."""
    if rows:
        columns = ("item_id", "media_type", "provider", "operation", "outcome", "calls", "video_seconds")
        now = utcnow()
        values = [{"at": r.at or now, **{c: getattr(r, c) for c in columns}} for r in rows]
        s.execute(_ADD, values[0] if len(values) == 1 else values)  # one row (the usual): no executemany


def _write(database_url: str, rows: list[ProviderCall]) -> None:
    try:
        with transaction(database_url) as s:
            store(s, rows)
    except Exception as exc:  # accounting must never fail the item; the metrics still counted the calls
        log.error("usage_not_recorded", calls=sum(r.calls for r in rows), error=str(exc))


@dataclass
class Summary:
    """The calls recorded in a window, as ``modq stats`` reports them."""

    made: dict[str, int] = field(default_factory=dict)  # "provider operation outcome" -> calls
    avoided: dict[str, int] = field(default_factory=lambda: {REUSED: 0, BANKED: 0})  # how -> calls not made
    images: int = 0  # image calls answered; each analysed frame of an animation is one
    paid_images: int = 0
    saved_images: int = 0  # paid calls that dedupe or a bank made unnecessary
    frames: int = 0
    video_seconds: float = 0.0
    paid_video_seconds: float = 0.0

    def add(self, provider: str, operation: str, outcome: str, media: str | None, n: int, seconds: float) -> None:
        paid = provider == PAID_PROVIDER
        if outcome in AVOIDED:
            self.avoided[outcome] += n
            self.saved_images += n if paid else 0
        elif n:
            key = f"{provider} {operation} {outcome}"
            self.made[key] = self.made.get(key, 0) + n
        if outcome == "ok" and operation == IMAGE_OPERATION and media in IMAGE_MEDIA:
            self.images += n
            self.paid_images += n if paid else 0
            self.frames += n if media == ANIMATION else 0
        self.video_seconds += seconds
        self.paid_video_seconds += seconds if paid else 0.0


def summary(s: Session, since: datetime) -> Summary:
    """What was called and avoided since ``since``, summed per provider, operation, outcome and media type."""
    c = ProviderCall
    result = Summary()
    for provider, operation, outcome, media, n, seconds in s.execute(
            select(c.provider, c.operation, c.outcome, c.media_type, func.sum(c.calls), func.sum(c.video_seconds))
            .where(c.at >= since).group_by(c.provider, c.operation, c.outcome, c.media_type)):
        result.add(provider, operation, outcome, media, n or 0, seconds or 0.0)
    return result
