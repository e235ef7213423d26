"""`modq subjects show ID`: what one uploader (the ``subject_id`` items carry) has submitted to a tenant."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from config.settings import get_settings
from moderation.cli.common import fail, out_line
from moderation.domain.errors import ModqError
from moderation.domain.tenancy import DEFAULT_TENANT
from moderation.items import subjects
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
