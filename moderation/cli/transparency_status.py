"""`modq transparency status`: the statements of reasons on their way to the EU DSA Transparency Database (sent,
pending and why, rejected with the database's field errors), read by ``transparency.submission_status``."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from config.settings import get_settings
from moderation.cli.common import out, out_line, tenant_scope
from moderation.domain.tenancy import ALL
from moderation.transparency import submission_status


def status(
    tenant: str = typer.Option(ALL, "--tenant", metavar="NAME",
                               help="The tenant (platform) whose statements to count; default '*': every tenant"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    limit: int = typer.Option(submission_status.REJECTED_SHOWN, "--limit", min=1, max=10000,
                              help="Rejected statements listed, newest first"),
) -> None:
    """Statements of reasons: sent, pending (due, held in a review's undo window, waiting for a retry), rejected
    by the Transparency Database with its reasons, and the oldest pending one's age."""
    settings = get_settings()
    report = submission_status.status(settings.database_url, tenant_scope(tenant), shown=limit)
    report["submission"] = {"url": settings.dsa_tdb_url, "enabled": bool(settings.dsa_tdb_url)}
    if as_json:
        print(json.dumps(report, indent=2))
        return
    render(report)


def render(report: dict[str, Any]) -> None:
    counts, pending = report["counts"], report["pending"]
    target = report["submission"]["url"] or "not sent: MODQ_DSA_TDB_URL is not set (statements are kept)"
    table = Table(title="Statements of reasons", title_justify="left", show_header=False, box=None)
    table.add_column(style="bold", min_width=24)
    table.add_column()
    table.add_row("transparency database", escape(target))
    table.add_row("sent", str(counts["sent"]))
    table.add_row("pending", f"{counts['pending']} (due {pending['due']}, held {pending['held']}, "
                             f"waiting for a retry {pending['waiting']})")
    age = report["oldest_pending_seconds"]
    table.add_row("oldest pending", "-" if age is None else _age(age))
    table.add_row("rejected", str(counts["rejected"]))
    table.add_row("withdrawn", str(counts["withdrawn"]))
    out.print(table)
    for row in report["rejected"]:
        reasons = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in row["errors"].items())
        out_line.print(f"rejected {escape(row['puid'])} (tenant {escape(row['tenant'])}): "
                       f"{escape(reasons or 'no field errors recorded')}", highlight=False)


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"
