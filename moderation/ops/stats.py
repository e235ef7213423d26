"""What ``modq stats`` reports: what is waiting, what was decided lately, how fast, what is stuck, and
what the providers were paid for.

Each section is a function ``(StatsContext) -> Section`` listed in ``SECTIONS``; ``--json`` prints every
section's ``data``. Reads Redis and the database only, so it works without any worker running; a source
that cannot be read is reported in its section, not raised. Cost is estimated from the price table in
config (MODQ_PRICE_PER_IMAGE per image call, each analysed frame of an animation being one call;
MODQ_PRICE_PER_VIDEO_MINUTE per minute of stored video); the offline model costs nothing per call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.settings import Settings
from moderation.alerts.models import Alert
from moderation.alerts.queries import sendable
from moderation.infra.clock import aware, utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.ops import collectors
from moderation.providers import usage
from moderation.providers.models import BANKED, REUSED


@dataclass
class StatsContext:
    settings: Settings
    session: Session
    now: datetime
    window: timedelta
    queues: tuple[str, ...]  # the worker's queue names, handed in by the entry point


@dataclass
class Section:
    key: str  # the --json key
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)  # what the table shows
    data: dict[str, Any] = field(default_factory=dict)  # what --json prints
    error: str | None = None


def queues(ctx: StatsContext) -> Section:
    section = Section("queues", "Queues (broker)")
    try:
        depths, unacked = collectors.queue_depths(ctx.settings.broker_url, ctx.queues,
                                                  prefix=getattr(ctx.settings, "broker_key_prefix", "") or "")
    except Exception as exc:  # Redis down: the rest of the report still helps
        section.error = f"cannot read the broker: {exc}"
        return section
    section.data = {"waiting": depths, "unacked": unacked}
    section.rows = [(f"{queue} waiting", f"{count:,}") for queue, count in depths.items()]
    section.rows.append(("delivered, not yet acked", f"{unacked:,}"))
    return section


def items(ctx: StatsContext) -> Section:
    s = ctx.session
    by_status = dict(s.execute(select(m.Item.status, func.count()).group_by(m.Item.status)).all())
    oldest = dict(s.execute(select(m.Item.status, func.min(m.Item.updated_at))
                            .where(m.Item.status.in_(m.IN_FLIGHT)).group_by(m.Item.status)).all())
    ages = {status: _age(ctx.now, at) for status, at in oldest.items() if at is not None}
    section = Section("items", "Items", data={"by_status": by_status, "oldest_in_flight_seconds": ages})
    for status in (*m.IN_FLIGHT, *m.TERMINAL):
        if status in by_status:
            age = f" (oldest {_duration(ages[status])})" if status in ages else ""
            section.rows.append((status, f"{by_status[status]:,}{age}"))
    section.rows.append(("total", f"{sum(by_status.values()):,}"))
    return section


def recent(ctx: StatsContext) -> Section:
    """Outcomes in the window, from the audit trail (indexed on time): automatic decisions and failures."""
    since = ctx.now - ctx.window
    rows = ctx.session.execute(
        select(m.AuditEvent.action, m.AuditEvent.to_status, func.count())
        .where(m.AuditEvent.at >= since, m.AuditEvent.action.in_(("decide", "fail")))
        .group_by(m.AuditEvent.action, m.AuditEvent.to_status)).all()
    outcomes: dict[str, int] = {}
    for _action, to_status, count in rows:
        outcomes[to_status or "unknown"] = outcomes.get(to_status or "unknown", 0) + count
    total = sum(outcomes.values())
    seconds = ctx.window.total_seconds()
    section = Section("recent", f"Last {_duration(seconds)}",
                      data={"window_seconds": seconds, "outcomes": outcomes, "per_second": total / seconds})
    for status in (*m.DECIDED, m.FAILED):
        if outcomes.get(status):
            section.rows.append((status, f"{outcomes[status]:,} ({100 * outcomes[status] / total:.1f}%)"))
    section.rows.append(("throughput", f"{total / seconds:,.2f} items/s ({total:,} items)"))
    return section


def latency(ctx: StatsContext) -> Section:
    """Submit-to-decision time of the items decided in the window."""
    since = ctx.now - ctx.window
    pairs = ctx.session.execute(
        select(m.Item.media_type, m.AuditEvent.at, m.Item.created_at)
        .join(m.Item, m.Item.id == m.AuditEvent.item_id)
        .where(m.AuditEvent.at >= since, m.AuditEvent.action == "decide")
        .limit(200_000)).all()
    by_type: dict[str, list[float]] = {}
    for media_type, decided, created in pairs:
        by_type.setdefault(media_type, []).append(max(0.0, (aware(decided) - aware(created)).total_seconds()))
    section = Section("latency", "Submit to decision")
    for media_type, values in sorted(by_type.items()):
        values.sort()
        figures = {f"p{q}": _quantile(values, q / 100) for q in (50, 95, 99)}
        section.data[media_type] = {"count": len(values), **figures}
        section.rows.append((media_type, "  ".join(f"{k} {_duration(v)}" for k, v in figures.items())
                             + f"  ({len(values):,} items)"))
    if not by_type:
        section.rows.append(("-", "nothing decided in the window"))
    return section


def outbox(ctx: StatsContext) -> Section:
    s = ctx.session
    # Backlog: due and not sent. An undo's cancelled rows never go; a review's held ones wait out its window.
    unsent = (Alert.published_at.is_(None), sendable(ctx.now))
    pending, oldest = s.execute(select(func.count(), func.min(Alert.created_at)).where(*unsent)).one()
    failing = s.scalar(select(func.count()).select_from(Alert).where(*unsent, Alert.last_error.is_not(None)))
    age = _age(ctx.now, oldest) if oldest is not None else 0.0
    section = Section("outbox", "Alerts outbox", data={"backlog": pending, "failing": failing, "oldest_seconds": age})
    section.rows = [("unpublished", f"{pending:,}" + (f" (oldest {_duration(age)})" if pending else "")),
                    ("with a publish error", f"{failing:,}")]
    return section


def video(ctx: StatsContext) -> Section:
    running = ctx.session.scalar(select(func.count()).select_from(m.Item).where(m.Item.status == m.SUBMITTED))
    limit = getattr(ctx.settings, "video_max_concurrent_jobs", None)
    section = Section("video", "Video jobs", data={"in_flight": running, "limit": limit})
    section.rows = [("running at the provider", f"{running:,}" + (f" of {limit}" if limit else ""))]
    return section


def calls(ctx: StatsContext) -> Section:
    """Calls made, by provider, operation and outcome; and calls avoided, by how."""
    used = usage.summary(ctx.session, ctx.now - ctx.window)
    section = Section("calls", "Provider calls", data={"made": used.made, "avoided": used.avoided})
    section.rows = [(key, f"{n:,}") for key, n in sorted(used.made.items())]
    section.rows.append(("avoided: same content (dedupe)", f"{used.avoided[REUSED]:,}"))
    section.rows.append(("avoided: hash bank", f"{used.avoided[BANKED]:,}"))
    return section


def cost(ctx: StatsContext) -> Section:
    """Images and video minutes analysed, and what they cost (and saved) by the price table."""
    used = usage.summary(ctx.session, ctx.now - ctx.window)
    price_image, price_minute = ctx.settings.price_per_image, ctx.settings.price_per_video_minute
    spent = used.paid_images * price_image + used.paid_video_seconds / 60 * price_minute
    saved = used.saved_images * price_image
    section = Section("cost", "Media analysed and estimated cost", data={
        "images": used.images, "animation_frames": used.frames, "video_minutes": round(used.video_seconds / 60, 3),
        "estimated_usd": round(spent, 4), "saved_usd": round(saved, 4), "price_per_image": price_image,
        "price_per_video_minute": price_minute})
    section.rows = [
        ("images analysed", f"{used.images:,}"),
        ("  of which frames of animations", f"{used.frames:,} (one call each)"),
        ("video minutes analysed", f"{used.video_seconds / 60:,.1f}"),
        ("estimated cost", f"${spent:,.2f} ({used.paid_images:,} images x ${price_image:g}, "
                           f"{used.paid_video_seconds / 60:,.1f} video min x ${price_minute:g})"),
        ("saved by dedupe and banks", f"${saved:,.2f}"),
    ]
    return section


SECTIONS: list[Callable[[StatsContext], Section]] = [queues, items, recent, latency, outbox, video, calls, cost]


def collect(settings: Settings, window: timedelta, queues: tuple[str, ...], sections=None) -> list[Section]:
    """Every section, each in its own read transaction: one that fails does not abort the others."""
    results = []
    now = utcnow()
    for build in sections or SECTIONS:
        try:
            with transaction(settings.database_url) as session:
                results.append(build(StatsContext(settings, session, now, window, queues)))
        except Exception as exc:  # one broken section must not hide the others
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            results.append(Section(build.__name__, build.__name__, error=f"{type(exc).__name__}: {first_line}"))
    return results


def _age(now: datetime, then: datetime) -> float:
    return max(0.0, (now - aware(then)).total_seconds())


def _quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
