"""`modq review list|backlog|next|approve|reject|release`: reviewing from a terminal.

Talks to the database through ``moderation.review`` (no HTTP), with the same
leases, audit trail and SNS alerts as the console. The reviewer's name
defaults to $USER.
"""

from __future__ import annotations

import getpass
import json
from typing import Optional

import typer
from rich.table import Table

from moderation.cli.common import choices, err, fail, out, runtime, tenant_option, tenant_scope
from moderation.domain.errors import BadInput, ModqError
from moderation.domain.tenancy import Scope
from moderation.items.queries import item_id_for
from moderation.review import backlog, services as review, views
from moderation.review.queries import QueueFilter

app = typer.Typer(help="Review flagged items from the terminal.", no_args_is_help=True)
Awaiting = choices("Awaiting", ("flagged", "rejected"))  # the verdicts a review queue holds
MediaType = choices("MediaType", ("image", "video"))
Reviewer = typer.Option(None, "--reviewer", help="Your name in leases and the audit trail (default: $USER)")
Ref = typer.Argument(..., help="Item id, id prefix (4+ characters) or external id")
Tenant = tenant_option("review queue")
Admin = typer.Option(False, "--admin", help="Decide without a claim of yours, even on an item someone else "
                                            "has claimed (their claim ends)")


def _who(reviewer: Optional[str]) -> str:
    return reviewer or getpass.getuser()


def _filter(verdict: Awaiting, label: Optional[str], media_type: Optional[MediaType], tenant: str) -> QueueFilter:
    return QueueFilter(verdict=verdict.value, label=label, media_type=media_type.value if media_type else None,
                       scope=tenant_scope(tenant))


@app.command("list")
def list_(verdict: Awaiting = typer.Option("flagged", help="Which queue"), label: Optional[str] = None,
          media_type: Optional[MediaType] = None, limit: int = typer.Option(50, min=1, max=1000),
          as_json: bool = typer.Option(False, "--json"), tenant: str = Tenant) -> None:
    """Items awaiting review, most urgent category first (the thresholds file's priority), then oldest first."""
    rows = views.review_queue(runtime(), _filter(verdict, label, media_type, tenant), limit=limit)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("id", "external id", "submitted", "top labels", "lease")
    for r in rows:
        labels = ", ".join(f"{lab['name']} {lab['confidence']:.0f}%" for lab in r["top_labels"])
        table.add_row(r["id"][:8], r["external_id"] or "", (r["created_at"] or "")[:19], labels,
                      r["lease"]["owner"] if r["lease"] else "")
    out.print(table)


@app.command("backlog")
def backlog_(verdict: Optional[Awaiting] = typer.Option(None, help="Only this queue (default: both)"),
             as_json: bool = typer.Option(False, "--json"), tenant: str = Tenant) -> None:
    """How many items wait per category (the thresholds file's priority, most urgent first) and the oldest wait."""
    rt = runtime()
    rows = backlog.by_category(rt.settings.database_url, rt.active_policy().priorities, scope=tenant_scope(tenant),
                               verdict=verdict.value if verdict else None)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("category", "rank", "waiting", "oldest (s)")
    for r in rows:
        table.add_row(r["category"], str(r["rank"] or "-"), str(r["count"]), f"{r['oldest_seconds']:.0f}")
    out.print(table)


@app.command("next")
def next_(reviewer: Optional[str] = Reviewer, verdict: Awaiting = typer.Option("flagged", help="Which queue"),
          label: Optional[str] = None, media_type: Optional[MediaType] = None,
          as_json: bool = typer.Option(False, "--json"),
          lease_seconds: Optional[int] = typer.Option(
              None, "--lease-seconds", help="How long the claim holds the item (default: MODQ_REVIEW_LEASE_SECONDS; "
                                            "at most MODQ_REVIEW_MAX_LEASE_SECONDS)"),
          tenant: str = Tenant) -> None:
    """Claim the first item awaiting review (most urgent, then oldest) and show it (exit 3 if none).

    A lease you already hold is shown again (renewed) instead of a second item.
    """
    rt, f = runtime(), _filter(verdict, label, media_type, tenant)
    try:
        lease = review.claim(rt, _who(reviewer), f, lease_seconds=lease_seconds)
    except BadInput as exc:
        fail(str(exc))
    except review.Conflict as exc:  # a lease of yours on another tenant's item
        fail(str(exc), 1)
    if lease is None:
        err.print("nothing to review")
        raise typer.Exit(3)
    view = views.item_detail(rt.settings.database_url, lease.item_id, scope=f.scope)
    if as_json:
        print(json.dumps(view, indent=2))
        return
    out.print(f"[bold]{view['id']}[/bold] {view['external_id'] or ''} ({view['status']}), yours until "
              f"{lease.expires_at:%H:%M:%S} UTC", highlight=False)
    out.print(f"  media: {view['media_uri']}", highlight=False)
    for rule in view["rules"]:
        out.print(f"  {rule['action']}: {rule['text']}", highlight=False)
    out.print(f"then: modq review approve {view['id'][:8]} --reason ... | reject ... | release ...", highlight=False)


def _item_id(rt, ref: str, scope: Scope) -> str:
    try:
        item_id = item_id_for(rt.settings.database_url, ref, scope)
    except BadInput as exc:  # an id prefix of several items: some are listed
        fail(str(exc))
    if item_id is None:
        fail(f"no item {ref!r}", 1)
    return item_id


def _decide(ref: str, verdict: str, reason: str, reviewer: Optional[str], admin: bool, tenant: str) -> None:
    rt, scope = runtime(), tenant_scope(tenant)
    item_id = _item_id(rt, ref, scope)
    try:
        review.review(rt, item_id, _who(reviewer), verdict, reason, admin=admin, scope=scope)
    except ModqError as exc:
        fail(str(exc), 1)
    out.print(f"{item_id} {verdict}")


@app.command("approve")
def approve(ref: str = Ref,
            reason: str = typer.Option(..., "--reason", help="Why (kept in the audit trail)"),
            reviewer: Optional[str] = Reviewer, admin: bool = Admin, tenant: str = Tenant) -> None:
    """Approve an item you claimed (with --admin: any item awaiting review)."""
    _decide(ref, "approved", reason, reviewer, admin, tenant)


@app.command("reject")
def reject(ref: str = Ref,
           reason: str = typer.Option(..., "--reason", help="Why (kept in the audit trail)"),
           reviewer: Optional[str] = Reviewer, admin: bool = Admin, tenant: str = Tenant) -> None:
    """Reject an item you claimed (with --admin: any item awaiting review)."""
    _decide(ref, "rejected", reason, reviewer, admin, tenant)


@app.command("release")
def release(ref: str = Ref, reviewer: Optional[str] = Reviewer,
            admin: bool = typer.Option(False, "--admin", help="Release a claim someone else holds"),
            tenant: str = Tenant) -> None:
    """Give an item you claimed back to the queue (with --admin: anyone's claim)."""
    rt, scope = runtime(), tenant_scope(tenant)
    item_id = _item_id(rt, ref, scope)
    try:
        review.release(rt, item_id, _who(reviewer), admin=admin, scope=scope)
    except ModqError as exc:
        fail(str(exc), 1)
    out.print(f"{item_id} released")
