"""The transparency report (issue 18.5, ``modq transparency report``): what was decided in a period [start, end),
counted the way a DSA transparency report (Art. 15, 24) asks, as tables (``Table``) that ``report_files`` writes
as CSV and ``report_charts`` draws.

Each table counts events by their own time in the period. Decisions come from the append-only audit trail
(``report_decisions``: each automatic decision, re-evaluation, review not undone, override and appeal decision
at its ``audit_events.at``), never from the columns later decisions overwrite. A statement counts by
``created_at``, a notice by ``received_at`` (its outcome as it stands now: ``open`` while undecided), an appeal
received by ``filed_at`` and decided by ``decided_at``. Statements whose decision was undone (``withdrawn``: never
sent) count in the states table only.

Counts are SQL aggregates. Times to decision (median, p90) are computed here from the two timestamps of each
decision, streamed in batches (``BATCH``) into an array of floats (8 bytes a decision) and sorted once (a list
while sorting: ~40 bytes a decision). The limit is that memory: ~400 MB at the peak for ten million decisions of
one kind in one period; a longer period is best reported quarter by quarter.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select, true
from sqlalchemy.orm import Session

from moderation.domain import dsa_schema as tdb
from moderation.domain.tenancy import Scope
from moderation.infra.clock import aware
from moderation.infra.db import transaction
from moderation.items import models as im
from moderation.review.models import Appeal
from moderation.transparency import report_decisions as rd
from moderation.transparency.models import STATES, WITHDRAWN, Notice, Statement

BATCH = 2000  # rows fetched at a time when streaming timestamps
HOUR = 3600.0
OPEN = "open"  # a notice no decision has answered yet


@dataclass(frozen=True)
class Period:
    start: datetime  # inclusive, aware
    end: datetime  # exclusive, aware
    scope: Scope
    tenant: str  # as the operator named it ('*': every tenant)


@dataclass(frozen=True)
class Table:
    name: str  # the file's stem: <name>.csv, <name>.png
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class Report:
    period: Period
    tables: dict[str, Table]  # by name, in the order they are written
    summary: list[tuple[str, Any]]  # (measure, value): the headline figures


def build(database_url: str, period: Period) -> Report:
    """Every table of the report, read in one transaction (one consistent snapshot on PostgreSQL)."""
    with transaction(database_url) as s:
        decided = decisions(s, period)
        tables = [categories(s, period), decided, automation(s, period, decided), times(s, period),
                  notices(s, period), appeals(s, period), statements(s, period)]
    by_name = {t.name: t for t in tables}
    return Report(period, by_name, summarize(period, by_name))


def _within(column: Any, p: Period) -> ColumnElement[bool]:
    return (column >= p.start) & (column < p.end)


def _tenant(column: Any, p: Period) -> ColumnElement[bool]:
    return true() if p.scope.all else column.in_(sorted(p.scope.tenant_ids))


def _standing_statements(p: Period) -> list[ColumnElement[bool]]:
    return [_within(Statement.created_at, p), _tenant(Statement.tenant_id, p), Statement.state != WITHDRAWN]


def categories(s: Session, p: Period) -> Table:
    """Restrictive decisions (their statements of reasons) by DSA category and decision ground."""
    category, ground = Statement.body["category"].as_string(), Statement.body["decision_ground"].as_string()
    query = (select(category, ground, func.count()).where(*_standing_statements(p)).group_by(category, ground)
             .order_by(func.count().desc(), category, ground))
    return Table("categories", "Restrictive decisions by category and ground",
                 ("category", "decision_ground", "decisions"), [tuple(r) for r in s.execute(query)])


def _within_of(p: Period) -> Callable[[Any], ColumnElement[bool]]:
    return lambda column: _within(column, p)


def _tenant_of(p: Period) -> Callable[[Any], ColumnElement[bool]]:
    return lambda column: _tenant(column, p)


def decisions(s: Session, p: Period) -> Table:
    """Every decision made in the period by who made it (``report_decisions.KINDS``) and its verdict; a rejection
    restricts the content. An automatic ``flagged`` restricts nothing yet: it sends the item to a person, whose
    review is a decision of its own."""
    found = s.execute(rd.counted(_within_of(p), _tenant_of(p))).all()
    return Table("decisions", "Decisions by who decided and verdict", ("decided_by", "verdict", "restrictive",
                                                                        "decisions"), rd.rows(found))


def automation(s: Session, p: Period, decided: Table) -> Table:
    """Automated vs human: restrictive decisions by their statement's ``automated_decision``, and every final
    decision in ``decided`` (an automatic approval or rejection, first or re-evaluated; a reviewer's, an admin's
    override, an appeal's) by whether a person made it."""
    level = Statement.body["automated_decision"].as_string()
    found = dict(s.execute(select(level, func.count()).where(*_standing_statements(p)).group_by(level)).all())
    rows = [("restrictive decisions (statements)", name, found.pop(name, 0)) for name in tdb.AUTOMATED_DECISIONS]
    rows += [("restrictive decisions (statements)", str(name), n) for name, n in sorted(found.items(), key=str)]
    final = [(by, n) for by, verdict, _, n in decided.rows if verdict in (im.APPROVED, im.REJECTED)]
    rows.append(("all decisions", "automatic", sum(n for by, n in final if by in rd.AUTOMATED)))
    rows.append(("all decisions", "human review", sum(n for by, n in final if by not in rd.AUTOMATED)))
    totals: dict[str, int] = {}
    for basis, _, n in rows:
        totals[basis] = totals.get(basis, 0) + n
    with_share = [(b, a, n, round(n / totals[b], 4) if totals[b] else 0.0) for b, a, n in rows]
    return Table("automation", "Automated and human decisions", ("basis", "automation", "decisions", "share"),
                 with_share)


def _durations(s: Session, query: Select) -> array:
    """Seconds from the first timestamp to the second of each row, streamed."""
    seconds = array("d")
    for start, end in s.execute(query.execution_options(yield_per=BATCH)):
        seconds.append((aware(end) - aware(start)).total_seconds())
    return seconds


def percentiles(values: array | list[float], *qs: float) -> list[float | None]:
    """The ``qs`` quantiles (0..1) of ``values``, sorted once, each by linear interpolation between the closest
    ranks (numpy's default); None for each when there are no values."""
    ordered = sorted(values)
    found: list[float | None] = []
    for q in qs:
        if not ordered:
            found.append(None)
            continue
        at = (len(ordered) - 1) * q
        low = int(at)
        high = min(low + 1, len(ordered) - 1)
        found.append(ordered[low] + (ordered[high] - ordered[low]) * (at - low))
    return found


def percentile(values: array | list[float], q: float) -> float | None:
    return percentiles(values, q)[0]


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / HOUR, 2)


def _timing(measure: str, seconds: array) -> tuple[Any, ...]:
    median, p90 = percentiles(seconds, 0.5, 0.9)
    rounded = [None if v is None else round(v, 1) for v in (median, p90)]
    return (measure, len(seconds), *rounded, _hours(median), _hours(p90))


def times(s: Session, p: Period) -> Table:
    """Median and p90 time to decision: from submission (``items.created_at``) to the item's first automatic
    decision and to its first review not undone (each made in the period), from a notice received in the period
    to its answer, from an appeal to its decision (made in the period)."""
    within, tenant = _within_of(p), _tenant_of(p)
    queries = {
        "submission to automatic decision": rd.first_decisions(im.AuditAction.DECIDE, within, tenant),
        "submission to reviewer decision": rd.first_decisions(im.AuditAction.REVIEW, within, tenant),
        "notice to decision": select(Notice.received_at, Notice.decided_at)
        .where(_within(Notice.received_at, p), _tenant(Notice.tenant_id, p), Notice.decided_at.is_not(None)),
        "appeal to decision": select(Appeal.filed_at, Appeal.decided_at)
        .where(_within(Appeal.decided_at, p), _tenant(Appeal.tenant_id, p)),
    }
    rows = [_timing(measure, _durations(s, query)) for measure, query in queries.items()]
    return Table("time_to_decision", "Time to decision", ("measure", "decisions", "median_seconds", "p90_seconds",
                                                          "median_hours", "p90_hours"), rows)


def _source(trusted: bool) -> str:
    return "trusted flagger" if trusted else "other notifier"


def notices(s: Session, p: Period) -> Table:
    """Notices received in the period by who sent them and their outcome, with the median hours to decide."""
    outcome = func.coalesce(Notice.outcome, OPEN)
    automated = func.sum(case((Notice.automated.is_(True), 1), else_=0))
    where = (_within(Notice.received_at, p), _tenant(Notice.tenant_id, p))
    counted = s.execute(select(Notice.trusted_flagger, outcome, func.count(), automated).where(*where)
                        .group_by(Notice.trusted_flagger, outcome)).all()
    seconds: dict[tuple[bool, str], array] = {}
    decided = select(Notice.trusted_flagger, Notice.outcome, Notice.received_at, Notice.decided_at).where(
        *where, Notice.decided_at.is_not(None))
    for trusted, answer, received, at in s.execute(decided.execution_options(yield_per=BATCH)):
        seconds.setdefault((bool(trusted), answer or OPEN), array("d")).append(
            (aware(at) - aware(received)).total_seconds())
    rows = [(_source(bool(t)), o, n, int(a or 0), _hours(percentile(seconds.get((bool(t), o), []), 0.5)))
            for t, o, n, a in counted]
    rows.sort(key=lambda r: (r[0] != _source(True), r[1]))
    return Table("notices", "Notices by source and outcome", ("source", "outcome", "notices",
                                                              "decided_by_automation", "median_hours_to_decision"), rows)


def appeals(s: Session, p: Period) -> Table:
    """Appeals received and decided in the period, and how the decided ones came out."""
    tenant = _tenant(Appeal.tenant_id, p)
    received = s.scalar(select(func.count()).select_from(Appeal).where(_within(Appeal.filed_at, p), tenant))
    outcomes = dict(s.execute(select(Appeal.outcome, func.count()).where(_within(Appeal.decided_at, p), tenant)
                              .group_by(Appeal.outcome)).all())
    rows = [("received", received or 0), ("decided", sum(outcomes.values())),
            ("upheld", outcomes.get("upheld", 0)), ("overturned", outcomes.get("overturned", 0))]
    return Table("appeals", "Appeals", ("measure", "appeals"), rows)


def statements(s: Session, p: Period) -> Table:
    """Statements of reasons written in the period by where they are on their way to the Transparency Database."""
    found = dict(s.execute(select(Statement.state, func.count()).where(_within(Statement.created_at, p),
                                                                       _tenant(Statement.tenant_id, p))
                           .group_by(Statement.state)).all())
    rows = [(state, found.pop(state, 0)) for state in STATES] + sorted(found.items())
    return Table("statements", "Statements of reasons by state", ("state", "statements"), rows)


def summarize(p: Period, t: dict[str, Table]) -> list[tuple[str, Any]]:
    """The headline figures, each the total of one table's column."""
    decided = t["decisions"].rows
    appealed = dict(t["appeals"].rows)
    appeal_time = next(r for r in t["time_to_decision"].rows if r[0] == "appeal to decision")
    return [
        ("from", p.start.isoformat()), ("to (exclusive)", p.end.isoformat()), ("tenant", p.tenant),
        *((f"{kind} decisions", sum(r[3] for r in decided if r[0] == kind)) for kind in rd.KINDS.values()),
        ("restrictive decisions", sum(r[3] for r in decided if r[2] == "yes")),
        ("non-restrictive decisions", sum(r[3] for r in decided if r[2] == "no")),
        ("statements of reasons (not withdrawn)", sum(r[1] for r in t["statements"].rows if r[0] != WITHDRAWN)),
        ("notices received", sum(r[2] for r in t["notices"].rows)),
        ("appeals received", appealed["received"]), ("appeals decided", appealed["decided"]),
        ("appeals overturned", appealed["overturned"]), ("appeal median hours to decision", appeal_time[4]),
    ]
