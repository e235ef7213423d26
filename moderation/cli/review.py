"""`modq review list|next|approve|reject|release`: reviewing from a terminal.

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

from moderation.cli.common import err, fail, out, runtime
from moderation.domain.errors import BadInput, ModqError
from moderation.items.queries import item_id_for
from moderation.review import services as review, views
from moderation.review.queries import QueueFilter

app = typer.Typer(help="Review flagged items from the terminal.", no_args_is_help=True)
Reviewer = typer.Option(None, "--reviewer", help="Your name in leases and the audit trail (default: $USER)")
Admin = typer.Option(False, "--admin", help="Review without holding the lease (overrides someone else's claim)")


def _who(reviewer: Optional[str]) -> str:
    return reviewer or getpass.getuser()


def _filter(verdict: str, label: Optional[str], media_type: Optional[str]) -> QueueFilter:
    if verdict not in ("flagged", "rejected"):
        fail("--verdict must be flagged or rejected")
    return QueueFilter(verdict=verdict, label=label, media_type=media_type)


@app.command("list")
def list_(verdict: str = typer.Option("flagged", help="flagged | rejected"), label: Optional[str] = None,
          media_type: Optional[str] = None, limit: int = typer.Option(50, min=1, max=1000),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """Items awaiting review, oldest first."""
    rows = views.review_queue(runtime(), _filter(verdict, label, media_type), limit=limit)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("id", "external id", "submitted", "top labels", "lease")
    for r in rows:
        labels = ", ".join(f"{lab['name']} {lab['confidence']:.0f}%" for lab in r["top_labels"])
        table.add_row(r["id"][:8], r["external_id"] or "", (r["created_at"] or "")[:19], labels,
                      r["lease"]["owner"] if r["lease"] else "")
    out.print(table)


@app.command("next")
def next_(reviewer: Optional[str] = Reviewer, verdict: str = typer.Option("flagged"), label: Optional[str] = None,
          media_type: Optional[str] = None, as_json: bool = typer.Option(False, "--json"),
          lease_seconds: Optional[int] = typer.Option(
              None, "--lease-seconds", help="How long the claim holds the item (default: MODQ_REVIEW_LEASE_SECONDS; "
                                            "at most MODQ_REVIEW_MAX_LEASE_SECONDS)")) -> None:
    """Claim the oldest item awaiting review and show it (exit 3 if none).

    A lease you already hold is shown again (renewed) instead of a second item.
    """
    rt = runtime()
    try:
        lease = review.claim(rt, _who(reviewer), _filter(verdict, label, media_type), lease_seconds=lease_seconds)
    except BadInput as exc:
        fail(str(exc))
    if lease is None:
        err.print("nothing to review")
        raise typer.Exit(3)
    view = views.item_detail(rt.settings.database_url, lease.item_id)
    if as_json:
        print(json.dumps(view, indent=2))
        return
    out.print(f"[bold]{view['id']}[/bold] {view['external_id'] or ''} ({view['status']}), yours until "
              f"{lease.expires_at:%H:%M:%S} UTC", highlight=False)
    out.print(f"  media: {view['media_uri']}", highlight=False)
    for rule in view["rules"]:
        out.print(f"  {rule['action']}: {rule['text']}", highlight=False)
    out.print(f"then: modq review approve {view['id'][:8]} --reason ... | reject ... | release ...", highlight=False)


def _decide(ref: str, verdict: str, reason: str, reviewer: Optional[str], admin: bool) -> None:
    rt = runtime()
    item_id = item_id_for(rt.settings.database_url, ref)
    if item_id is None:
        fail(f"no item {ref!r}", 1)
    try:
        review.review(rt, item_id, _who(reviewer), verdict, reason, admin=admin)
    except ModqError as exc:
        fail(str(exc), 1)
    out.print(f"{item_id} {verdict}")


@app.command("approve")
def approve(ref: str = typer.Argument(..., help="Item id, id prefix or external id"),
            reason: str = typer.Option(..., "--reason", help="Why (kept in the audit trail)"),
            reviewer: Optional[str] = Reviewer, admin: bool = Admin) -> None:
    """Approve an item you claimed."""
    _decide(ref, "approved", reason, reviewer, admin)


@app.command("reject")
def reject(ref: str = typer.Argument(..., help="Item id, id prefix or external id"),
           reason: str = typer.Option(..., "--reason", help="Why (kept in the audit trail)"),
           reviewer: Optional[str] = Reviewer, admin: bool = Admin) -> None:
    """Reject an item you claimed."""
    _decide(ref, "rejected", reason, reviewer, admin)


@app.command("release")
def release(ref: str = typer.Argument(...), reviewer: Optional[str] = Reviewer, admin: bool = Admin) -> None:
    """Give a claimed item back to the queue."""
    rt = runtime()
    try:
        review.release(rt, item_id_for(rt.settings.database_url, ref) or ref, _who(reviewer), admin=admin)
    except ModqError as exc:
        fail(str(exc), 1)
    out.print(f"{ref} released")
