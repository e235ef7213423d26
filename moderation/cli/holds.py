"""`modq holds add|list|release`: legal holds (issue 19.3), data kept whatever retention or an erasure says.

The operator's CLI acts as an admin for every tenant. ``add --item`` holds one item (of its own tenant, or of
``--tenant``'s, which it must belong to); ``add --subject`` every item of that uploader in ``--tenant`` (default
``default``), now and later. Each add and release is in the audit trail (``hold``, ``release_hold``).
"""

from __future__ import annotations

import json

import typer
from rich.table import Table

from config.settings import get_settings
from moderation.cli.common import fail, operator, out_line, runtime, tenant_id, tenant_scope
from moderation.domain.errors import ModqError
from moderation.domain.tenancy import DEFAULT_TENANT, EVERY_TENANT
from moderation.items.queries import stored_item
from moderation.privacy import holds

app = typer.Typer(help="Legal holds: items, or a subject's items, kept whatever retention or erasure say.",
                  no_args_is_help=True)
TENANT_HELP = "The tenant (platform) whose {what} this is (`modq tenants list`){extra}"


@app.command("add")
def add(item: str | None = typer.Option(None, "--item", metavar="ID", help="Hold this item"),
        subject: str | None = typer.Option(None, "--subject", metavar="ID", help="Hold every item of this "
                                           "subject_id (uploader) in the tenant, now and later"),
        reason: str = typer.Option(..., "--reason", metavar="TEXT", help="Why (1-1000 characters): the order, "
                                   "request or investigation; in the audit trail"),
        tenant: str | None = typer.Option(None, "--tenant", metavar="NAME", help=TENANT_HELP.format(
            what="item or subject", extra="; default: the item's own, or 'default' for a subject")),
        as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Put an item, or every item of a subject, under legal hold."""
    if (item is None) == (subject is None):
        fail("give exactly one of --item ID and --subject ID")
    try:
        hold = holds.add(runtime(), _tenant_of(item, tenant), item_id=item, subject_id=subject, reason=reason,
                         actor=operator())
    except ModqError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(hold, indent=2))
        return
    what = f"item {item}" if item is not None else f"subject {subject}"
    out_line.print(f"legal hold {hold['id']} on {what} (tenant {hold['tenant']})", highlight=False, markup=False)


def _tenant_of(item: str | None, tenant: str | None) -> int:
    """The tenant a hold is for: the one named; else an item's own (the operator sees every tenant), or the
    default tenant for a subject."""
    if tenant is not None:
        return tenant_id(tenant)
    if item is None:
        return tenant_id(DEFAULT_TENANT)
    found = stored_item(get_settings().database_url, item, scope=EVERY_TENANT)
    if found is None:
        fail(f"no item {item!r}")
    return found.tenant_id


@app.command("list")
def list_(tenant: str | None = typer.Option(None, "--tenant", metavar="NAME", help=TENANT_HELP.format(
              what="holds", extra="; default: every tenant")),
          include_released: bool = typer.Option(False, "--all", help="Include released holds"),
          as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Legal holds, oldest first: active ones, or every one (--all)."""
    scope = tenant_scope(tenant) if tenant is not None else EVERY_TENANT
    rows = holds.list_(runtime(), scope, include_released=include_released)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        out_line.print("no legal holds" + ("" if include_released else " active"), highlight=False, markup=False)
        return
    table = Table("id", "tenant", "on", "reason", "by", "since", "released")
    for row in rows:
        on = f"item {row['item_id']}" if row["item_id"] else f"subject {row['subject_id']}"
        released = f"{row['released_at'][:19]} by {row['released_by']}" if row["released_at"] else "-"
        table.add_row(str(row["id"]), row["tenant"], on, row["reason"], row["created_by"], row["created_at"][:19],
                      released)
    out_line.print(table)


@app.command("release")
def release(hold_id: int = typer.Argument(..., metavar="HOLD_ID", min=1, max=2**31 - 1,
                                          help="The hold's number (modq holds list)"),
            tenant: str | None = typer.Option(None, "--tenant", metavar="NAME", help=TENANT_HELP.format(
                what="hold", extra="; default: any")),
            reason: str | None = typer.Option(None, "--reason", metavar="TEXT", help="Why (optional; audited)"),
            as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Release a legal hold: its data is again subject to retention and erasure. The hold stays listed (--all)."""
    scope = tenant_scope(tenant) if tenant is not None else EVERY_TENANT
    try:
        hold = holds.release(runtime(), hold_id, scope, operator(), reason)
    except ModqError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(hold, indent=2))
        return
    out_line.print(f"legal hold {hold_id} released", highlight=False, markup=False)
