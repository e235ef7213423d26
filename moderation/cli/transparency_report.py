"""`modq transparency report --from DATE --to DATE [--tenant NAME] --out DIR`: the transparency report of a
period as CSV tables and PNG charts (``moderation/transparency/report*.py``). Every option is checked, and every
file rendered in memory, before anything is written: a bad option ends the command with one line naming it."""

from __future__ import annotations

import os
from datetime import datetime, time, timezone
from pathlib import Path

import typer

from config.settings import get_settings
from moderation.cli.common import fail, out_line, tenant_option
from moderation.domain.tenancy import ALL, EVERY_TENANT, Scope
from moderation.infra.clock import aware
from moderation.tenants import services as tenants
from moderation.transparency import report_files
from moderation.transparency.report import Period, build

DATE_HELP = "YYYY-MM-DD (midnight UTC) or an ISO 8601 time (UTC if no zone)"


def parse_when(option: str, value: str) -> datetime:
    """A day (its midnight, UTC) or an ISO 8601 time, in UTC (SQLite drops the offset of a bound time, so
    10:30+02:00 must reach the query as 08:30 UTC); anything else ends the command naming ``option``."""
    text = value.strip()
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option} {value!r}: not a date; expected {DATE_HELP}")
    if len(text) == 10:  # a bare date: fromisoformat gave its midnight
        when = datetime.combine(when.date(), time(), timezone.utc)
    return aware(when).astimezone(timezone.utc)


def out_problem(path: Path) -> str | None:
    """Why the report could not be written into ``path``, or None."""
    if path.exists() and not path.is_dir():
        return "not a directory (a file of that name exists)"
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        return f"{existing} is a file, not a directory"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot write in {existing}"
    return None


def scope_of(name: str) -> Scope:
    """Every tenant for '*', else the one named; an unknown name ends the command naming ``--tenant``."""
    if name.strip() == ALL:
        return EVERY_TENANT
    try:
        return Scope(tenant_ids=frozenset({tenants.tenant_id(get_settings().database_url, name.strip())}))
    except tenants.UnknownTenant:
        fail(f"--tenant {name!r}: no such tenant (`modq tenants list` shows them)")


def report(
    start: str = typer.Option(..., "--from", metavar="DATE", help=f"First moment of the period: {DATE_HELP}"),
    end: str = typer.Option(..., "--to", metavar="DATE", help=f"End of the period, not included: {DATE_HELP}"),
    tenant: str = tenant_option("report"),
    out: Path = typer.Option(..., "--out", metavar="DIR", help="Directory to write the CSV files and charts into "
                                                                 "(made if missing; files of the same names are "
                                                                 "replaced)"),
) -> None:
    """The transparency report of decisions made in [--from, --to): decisions by category and ground, automated
    vs human, times to decision, notices, appeals and statements of reasons, as CSV tables, PNG charts and an
    index (README.md). Prints the files written."""
    first, last = parse_when("--from", start), parse_when("--to", end)
    if first >= last:
        fail(f"--to {end!r} must be after --from {start!r} (the period is [from, to))")
    if (problem := out_problem(out)) is not None:
        fail(f"--out {out}: {problem}")
    scope = scope_of(tenant)
    built = build(get_settings().database_url, Period(first, last, scope, tenant.strip()))
    from moderation.transparency import report_charts  # heavy: matplotlib adds ~0.4 s to every modq start

    contents = report_files.files(built, report_charts.charts(built))
    try:
        written = report_files.write(out, contents)
    except OSError as exc:
        fail(f"--out {out}: cannot write {exc.filename or ''}: {exc.strerror or exc}")
    for path in written:
        out_line.print(str(path), highlight=False, markup=False)
    out_line.print(f"wrote {len(written)} files to {out}", highlight=False, markup=False)
