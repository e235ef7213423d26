"""The transparency report's files: one CSV a table (a header row, then the rows), ``summary.csv`` (the headline
figures) and ``README.md`` (what each file counts), besides the charts ``report_charts`` draws. Everything is
rendered in memory first, so a report that cannot be built writes nothing."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from moderation.transparency.report import Report

SUMMARY, INDEX = "summary.csv", "README.md"

# What each table counts, for the index: a reader of the CSVs needs the definitions, not the code.
MEANING = {
    "categories": "restrictive decisions (their statements of reasons, created in the period, not withdrawn) by "
                  "the DSA category and decision ground of the statement",
    "decisions": "every decision made in the period, from the audit trail, by who made it: automatic (the model "
                 "or a hash bank; 'flagged' sends the item to a person), re-evaluation (automatic, under a new "
                 "policy version), reviewer (a review its reviewer undid is none), override (an admin's), appeal "
                 "(an appeal's decision; also in appeals.csv); its verdict is where it left the item, a rejection "
                 "is restrictive",
    "automation": "the statements' automated_decision (fully, partially, not automated), and every final decision "
                  "(automatic or re-evaluated approval or rejection vs a person's: reviewer, override, appeal), "
                  "each with its share",
    "time_to_decision": "median and p90 time from submission to the item's first automatic decision and to its "
                        "first review not undone (made in the period), from a notice received in the period to its "
                        "answer, from an appeal to its decision (made in the period)",
    "notices": "notices (Art. 16) received in the period by source (trusted flagger or not) and outcome ('open': "
               "not decided yet), how many automated means decided, the median hours to decide",
    "appeals": "appeals filed in the period (received), decided in the period, and how those came out",
    "statements": "statements of reasons written in the period by submission state to the Transparency Database "
                  "(withdrawn: the decision was undone, never sent; not in the summary's total)",
}


def _cell(value: Any) -> Any:
    return "" if value is None else value


def csv_text(columns: tuple[str, ...] | list[str], rows: list[tuple[Any, ...]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return buffer.getvalue()


def _index(report: Report, charts: dict[str, bytes]) -> str:
    p = report.period
    lines = [f"# Transparency report, {p.start.isoformat()} to {p.end.isoformat()} (exclusive)", "",
             f"Tenant: {'every tenant' if p.scope.all else p.tenant}. Written by `modq transparency report`.", "",
             f"- `{SUMMARY}`: the headline figures, each the total of one table."]
    for table in report.tables.values():
        chart = f" (chart: `{table.name}.png`)" if f"{table.name}.png" in charts else ""
        lines.append(f"- `{table.name}.csv`{chart}: {MEANING.get(table.name, table.title)}.")
    lines += [f"- `{name}`: the main charts on one page." for name in charts if name == "overview.png"]
    return "\n".join(lines) + "\n"


def table_files(report: Report) -> dict[str, bytes]:
    files = {f"{t.name}.csv": csv_text(t.columns, t.rows).encode() for t in report.tables.values()}
    files[SUMMARY] = csv_text(("measure", "value"), report.summary).encode()
    return files


def files(report: Report, charts: dict[str, bytes]) -> dict[str, bytes]:
    """Every file of the report by name: the tables, the summary, the charts, the index."""
    return {**table_files(report), **charts, INDEX: _index(report, charts).encode()}


def write(out: Path, contents: dict[str, bytes]) -> list[Path]:
    """Write the files into ``out`` (made if missing); the paths written, in order."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in contents.items():
        (out / name).write_bytes(data)
        written.append(out / name)
    return written
