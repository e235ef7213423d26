"""`modq transparency export`: the statements of reasons modq wrote, as NDJSON or CSV, streamed (any volume,
flat memory) with a progress bar on stderr.

NDJSON: one statement a line, its Transparency Database body plus ``puid`` and ``state``. CSV: one row a
statement, a column per field of the body (lists joined by ","), for a spreadsheet or a transparency report.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import typer

from config.settings import get_settings
from moderation.cli.common import choices, err, fail, tenant_option, tenant_scope
from moderation.cli.items_retry import parse_since
from moderation.cli.progress import bar
from moderation.transparency import queries

Format = choices("Format", ["ndjson", "csv"])
# Every field ``domain.statements.build_statement`` writes, in the Transparency Database's order.
COLUMNS = ("puid", "state", "decision_visibility", "decision_ground", "illegal_content_legal_ground",
           "illegal_content_explanation", "incompatible_content_ground", "incompatible_content_explanation",
           "incompatible_content_illegal", "decision_ground_reference_url", "category", "category_addition",
           "category_specification", "content_type", "content_type_other", "content_date", "application_date",
           "decision_facts", "source_type", "automated_detection", "automated_decision", "territorial_scope")


def export(
    since: str = typer.Option(..., "--since", help="Statements written since: a duration back from now (30d, 12h, "
                                                   "30m) or an ISO 8601 date or time (UTC if no zone)"),
    tenant: str = tenant_option("statements"),
    fmt: Format = typer.Option("ndjson", "--format", help="ndjson: one statement a line; csv: one column a field"),
    out: Path | None = typer.Option(None, "--out", metavar="FILE", help="Write here (default: stdout)",
                                    dir_okay=False),
) -> None:
    """Export the statements of reasons (EU DSA) written since --since, oldest first; withdrawn ones (an undone
    review's) are not statements and are left out."""
    start, scope, url = parse_since(since), tenant_scope(tenant), get_settings().database_url
    if out is not None and not out.parent.is_dir():
        fail(f"--out: {out.parent} is no directory")
    total = queries.export_count(url, start, scope)
    with _target(out) as stream, bar("exporting statements", unit="statements") as on_progress:
        written = 0
        for written, _ in enumerate(_write(stream, fmt.value, queries.export_rows(url, start, scope)), 1):
            on_progress(written, max(total, written))
    if out is not None:
        err.print(f"exported {written} statements to {out}", highlight=False, soft_wrap=True)


def _write(stream: IO[str], fmt: str, rows: Iterable[dict[str, Any]]) -> Iterator[None]:
    """Write each row as it comes; yields once a row, for the progress bar."""
    if fmt == "csv":
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow(flatten(row))
            yield None
        return
    for row in rows:
        stream.write(json.dumps(record(row), ensure_ascii=False, separators=(",", ":")) + "\n")
        yield None


def record(row: dict[str, Any]) -> dict[str, Any]:
    """An NDJSON line: the body, its puid and where it is on its way to the database."""
    return {**row["statement"], "puid": row["puid"], "state": row["state"]}


def flatten(row: dict[str, Any]) -> list[str]:
    """A CSV row: ``COLUMNS`` of ``record(row)``, lists joined by ",", a missing field empty."""
    data = record(row)
    return [",".join(map(str, v)) if isinstance(v, list) else "" if v is None else str(v)
            for v in (data.get(c) for c in COLUMNS)]


@contextmanager
def _target(out: Path | None) -> Iterator[IO[str]]:
    if out is None:
        yield sys.stdout
        return
    with out.open("w", encoding="utf-8", newline="") as stream:
        yield stream
