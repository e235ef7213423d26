"""`modq stats`: what is waiting, what was decided lately, how fast, and what is stuck.

Each section is a function ``(StatsContext) -> Section`` listed in ``SECTIONS``;
``--json`` prints every section's ``data``; the cost accounting sections live
in ``cli_stats_usage``. Reads Redis and the database
only, so it works without any worker running; a source that cannot be read
is reported in its section, not raised.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config.settings import Settings, get_settings
from moderation.items import models as m
from moderation.infra.db import transaction
from moderation.ops import collectors

out = Console()


@dataclass
class StatsContext:
    settings: Settings
    session: Session
    now: datetime
    window: timedelta


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
        depths, unacked = collectors.queue_depths(ctx.settings.broker_url,
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
        by_type.setdefault(media_type, []).append(max(0.0, (_aware(decided) - _aware(created)).total_seconds()))
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
    pending, oldest = s.execute(select(func.count(), func.min(m.Alert.created_at))
                                .where(m.Alert.published_at.is_(None))).one()
    failing = s.scalar(select(func.count()).select_from(m.Alert)
                       .where(m.Alert.published_at.is_(None), m.Alert.last_error.is_not(None)))
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


def _usage_sections() -> list[Callable[[StatsContext], Section]]:
    from moderation.cli import stats_usage as cli_stats_usage

    return [cli_stats_usage.calls, cli_stats_usage.cost]


SECTIONS: list[Callable[[StatsContext], Section]] = [queues, items, recent, latency, outbox, video,
                                                     *_usage_sections()]


def collect(settings: Settings, window: timedelta, sections=None) -> list[Section]:
    """Every section, each in its own read transaction: one that fails does not abort the others."""
    results = []
    now = datetime.now(timezone.utc)
    for build in sections or SECTIONS:
        try:
            with transaction(settings.database_url) as session:
                results.append(build(StatsContext(settings, session, now, window)))
        except Exception as exc:  # one broken section must not hide the others
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            results.append(Section(build.__name__, build.__name__, error=f"{type(exc).__name__}: {first_line}"))
    return results


def render(sections: list[Section], console: Console = out) -> None:
    for section in sections:
        table = Table(title=section.title, title_justify="left", show_header=False, box=None, pad_edge=False)
        table.add_column(style="bold", min_width=28)
        table.add_column()
        if section.error:
            table.add_row("[red]error[/red]", section.error)
        for label, value in section.rows:
            table.add_row(label, value)
        console.print(table)
        console.print()


def stats(
    window: float = typer.Option(15, "--window", "-w", min=0.1, help="Minutes of recent activity to summarize"),
    since: str | None = typer.Option(None, "--since", help="Like --window, as 7d, 12h, 30m or 2w"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (every section's figures)."),
    watch: float = typer.Option(0, "--watch", min=0, help="Refresh every N seconds (Ctrl-C to stop)"),
) -> None:
    """Queue depths, items by status, recent throughput and verdicts, latency, outbox, video jobs,
    provider calls (made and avoided) and their estimated cost."""
    settings = get_settings()
    span = timedelta(minutes=window)
    if since is not None:
        from moderation.domain.errors import ConfigError
        from moderation.policy.queries import parse_since

        try:
            span = parse_since(since)
        except ConfigError as exc:
            Console(stderr=True).print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None
    while True:
        sections = collect(settings, span)
        if as_json:
            print(json.dumps({s.key: ({"error": s.error} if s.error else s.data) for s in sections}, default=str))
        else:
            if watch:
                out.clear()
            render(sections)
        if not watch:
            break
        time.sleep(watch)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _age(now: datetime, then: datetime) -> float:
    return max(0.0, (now - _aware(then)).total_seconds())


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
