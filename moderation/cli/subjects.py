"""`modq subjects show ID`: what one uploader (the ``subject_id`` items carry) has submitted to a tenant."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from config.settings import get_settings
from moderation.cli.common import fail, operator, out_line, runtime
from moderation.domain.errors import ModqError
from moderation.domain.tenancy import DEFAULT_TENANT
from moderation.items import subjects
from moderation.privacy import erasure
from moderation.tenants import services as tenants

app = typer.Typer(help="Subjects: the uploaders items are submitted with (--subject, subject_id).",
                  no_args_is_help=True)


@app.command("show")
def show(subject_id: str = typer.Argument(..., metavar="ID", help="The subject_id items were submitted with"),
         tenant: str = typer.Option(DEFAULT_TENANT, metavar="NAME", help="The tenant (platform) the subject is on"),
         as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Counts by verdict, the first and last submission, the latest decided items and the open flag."""
    url = get_settings().database_url
    try:
        view = subjects.history(url, subject_id, tenant_id=tenants.tenant_id(url, tenant))
    except ModqError as exc:
        fail(str(exc))
    if view is None:
        fail(f"no items with subject_id {subject_id!r} in tenant {tenant}", 1)
    view = {**view, "tenant": tenant}
    if as_json:
        print(json.dumps(view, indent=2))
        return
    counts = ", ".join(f"{k} {v}" for k, v in view["counts"].items() if v)
    for line in (f"subject {view['subject_id']} (tenant {tenant}): {view['items']} items: {counts}",
                 f"first submitted {view['first_submitted_at']}, last {view['last_submitted_at']}"):
        out_line.print(line, highlight=False, markup=False)
    flag = view["flag"]
    if flag:
        out_line.print(f"flagged {flag['crossed_at']}: {flag['rule']} ({flag['count']} rejected)", highlight=False,
                       markup=False)
    if view["latest"]:
        table = Table("id", "verdict", "decided", "external id", "media")
        for row in view["latest"]:
            table.add_row(row["id"], row["verdict"], (row["decided_at"] or "-")[:19], row["external_id"] or "-",
                          row["media_type"])
        out_line.print(table)


@app.command("erase")
def erase(subject_id: str = typer.Argument(..., metavar="ID", help="The subject_id items were submitted with"),
          tenant: str = typer.Option(DEFAULT_TENANT, metavar="NAME", help="The tenant (platform) the subject is on"),
          as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Erase everything that identifies the subject in the tenant (issue 19.2): held items are kept and listed,
    items being moderated are erased when their moderation ends."""
    rt = runtime()
    try:
        report = erasure.erase_subject(rt, tenants.tenant_id(rt.settings.database_url, tenant), subject_id,
                                       operator()).as_dict()
    except ModqError as exc:
        fail(str(exc), 1 if isinstance(exc, erasure.NotFound) else 2)
    if as_json:
        print(json.dumps(report, indent=2))
        return
    out_line.print(f"erased {len(report['erased'])} items of the subject (tenant {tenant}), "
                   f"{len(report['held'])} held, {len(report['pending'])} pending", highlight=False, markup=False)
    for held in report["held"]:
        out_line.print(f"held {held['item_id']}: {held['reason']}", highlight=False, markup=False)
    for item_id in report["pending"]:
        out_line.print(f"pending {item_id}: erased when its moderation ends", highlight=False, markup=False)
