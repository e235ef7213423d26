"""`modq review list|backlog|next|renew|approve|reject|escalate|release|undo|override`: reviewing from a terminal.

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

from moderation.api.review_context import known_label
from moderation.cli import review_prefs
from moderation.cli.common import choices, err, fail, item_ref, out, runtime, tenant_option, tenant_scope
from moderation.cli.review_bulk import bulk as bulk_command
from moderation.cli import review_changes  # issue 17.2: undo and override
from moderation.domain.errors import BadInput, ModqError
from moderation.review import backlog, escalations, leases, services as review, views
from moderation.review.queries import QueueFilter
from moderation.transparency.notice_views import notices_of  # issue 18.4: why the item was reported

app = typer.Typer(help="Review flagged items from the terminal.", no_args_is_help=True)
app.command("bulk")(bulk_command)  # issue 17.4: many items, one verdict and reason
app.command("undo")(review_changes.undo)  # issue 17.2: take back your review within the window
app.command("override")(review_changes.override)  # issue 17.2: an admin replaces a review's verdict
Awaiting = choices("Awaiting", ("flagged", "rejected"))  # the verdicts a review queue holds
MediaType = choices("MediaType", ("image", "video"))
Queue = choices("Queue", ("items", "escalated"))  # escalated: the senior queue (issue 17.6)
QueueOption = typer.Option("items", "--queue", help="items (default), or escalated: the items reviewers sent to "
                                                    "a senior reviewer (any verdict; by priority, then escalation time)")
Source = choices("Source", ("notice",))
SourceOption = typer.Option(None, "--source", help="notice: only items with an open notice (Art. 16 DSA), trusted "
                                                   "flaggers' first")
ReasonCode = typer.Option(None, "--reason-code", help="One of the policy's reason codes (its `reasons` section)")
Reviewer = typer.Option(None, "--reviewer", help="Your name in leases and the audit trail (default: $USER)")
Ref = typer.Argument(..., help="Item id, id prefix (4+ characters) or external id")
Tenant = tenant_option("review queue")
Admin = typer.Option(False, "--admin", help="Decide without a claim of yours, even on an item someone else "
                                            "has claimed (their claim ends)")


def _who(reviewer: Optional[str]) -> str:
    return reviewer or getpass.getuser()


def _filter(verdict: Awaiting, label: Optional[str], media_type: Optional[MediaType], tenant: str,
            queue: Queue = Queue("items"), source: Optional[Source] = None) -> QueueFilter:
    return QueueFilter(verdict=verdict.value, label=_label(label), media_type=media_type.value if media_type else None,
                       scope=tenant_scope(tenant), escalated=queue.value == "escalated",
                       source=source.value if source else None)


def _label(label: Optional[str]) -> Optional[str]:
    """--label as the console and the API take it: a taxonomy label, canonically spelt; a typo is an error
    (exit 2), not an empty queue."""
    try:
        return known_label(label)
    except ValueError as exc:
        fail(f"--label: {exc}")


@app.command("list")
def list_(verdict: Awaiting = typer.Option("flagged", help="Which queue"), label: Optional[str] = None,
          media_type: Optional[MediaType] = None, limit: int = typer.Option(50, min=1, max=1000),
          as_json: bool = typer.Option(False, "--json"), tenant: str = Tenant, queue: Queue = QueueOption,
          source: Optional[Source] = SourceOption) -> None:
    """Items awaiting review, most urgent category first (the thresholds file's priority), then oldest first
    (--queue escalated: the escalated items, with their notes)."""
    f = _filter(verdict, label, media_type, tenant, queue, source)
    rows = backlog.page(runtime(), f, limit)[0] if f.escalated else views.review_queue(runtime(), f, limit=limit)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if f.escalated:
        _escalated_table(rows)
        return
    table = Table("id", "external id", "submitted", "top labels", "lease")
    for r in rows:
        labels = ", ".join(f"{lab['name']} {lab['confidence']:.0f}%" for lab in r["top_labels"])
        table.add_row(r["id"][:8], r["external_id"] or "", (r["created_at"] or "")[:19], labels,
                      r["lease"]["owner"] if r["lease"] else "")
    out.print(table)


@app.command("backlog")
def backlog_(verdict: Optional[Awaiting] = typer.Option(None, help="Only this queue (default: both)"),
             as_json: bool = typer.Option(False, "--json"), tenant: str = Tenant, queue: Queue = QueueOption) -> None:
    """How many items wait per category (the thresholds file's priority, most urgent first) and the oldest wait."""
    rt = runtime()
    rows = backlog.by_category(rt.settings.database_url, rt.active_policy().priorities, scope=tenant_scope(tenant),
                               verdict=verdict.value if verdict else None, escalated=queue.value == "escalated")
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("category", "rank", "waiting", "oldest (s)")
    for r in rows:
        rank = "-" if r["rank"] is None else str(r["rank"])  # 0: a trusted flagger's notice
        table.add_row(r["category"], rank, str(r["count"]), f"{r['oldest_seconds']:.0f}")
    out.print(table)


@app.command("next")
def next_(reviewer: Optional[str] = Reviewer, verdict: Awaiting = typer.Option("flagged", help="Which queue"),
          label: Optional[str] = None, media_type: Optional[MediaType] = None,
          as_json: bool = typer.Option(False, "--json"),
          lease_seconds: Optional[int] = typer.Option(
              None, "--lease-seconds", help="How long the claim holds the item (default: MODQ_REVIEW_LEASE_SECONDS; "
                                            "at most MODQ_REVIEW_MAX_LEASE_SECONDS)"),
          tenant: str = Tenant, queue: Queue = QueueOption, source: Optional[Source] = SourceOption) -> None:
    """Claim the first item awaiting review (most urgent, then oldest) and show it (exit 3 if none).

    A lease you already hold is shown again (renewed) instead of a second item.
    """
    rt, f = runtime(), _filter(verdict, label, media_type, tenant, queue, source)
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
    view["notices"] = notices_of(rt.settings.database_url, lease.item_id, scope=f.scope)  # never who sent them
    if as_json:
        print(json.dumps(view, indent=2))
        return
    out.print(f"[bold]{view['id']}[/bold] {view['external_id'] or ''} ({view['status']}), yours until "
              f"{lease.expires_at:%H:%M:%S} UTC", highlight=False)
    out.print(f"  media: {view['media_uri']}", highlight=False)
    for rule in view["rules"]:
        out.print(f"  {rule['action']}: {rule['text']}", highlight=False)
    _notices([n for n in view["notices"] if n["state"] == "open"])
    out.print(f"then: modq review approve {view['id'][:8]} --reason ... | reject ... | release ...", highlight=False)


def _notices(open_ones: list[dict]) -> None:
    """The open notices (Art. 16 DSA): what was reported, a trusted flagger's marked; as text, not markup."""
    if open_ones:
        out.print(f"  reported by {len(open_ones)} open notice(s):", highlight=False)
    for n in open_ones:
        out.print(f"  - {'[trusted flagger] ' if n['trusted_flagger'] else ''}{n['received_at'][:19]}: "
                  f"{n['explanation']}", markup=False, highlight=False)


def _decide(ref: str, verdict: str, reason: str, reviewer: Optional[str], admin: bool, tenant: str,
            reason_code: Optional[str] = None) -> None:
    rt, scope = runtime(), tenant_scope(tenant)
    item_id = item_ref(rt, ref, scope)
    try:
        review.review(rt, item_id, _who(reviewer), verdict, reason, admin=admin, scope=scope, reason_code=reason_code)
    except ModqError as exc:
        fail(str(exc), 1)
    out.print(f"{item_id} {verdict}")


@app.command("approve")
def approve(ref: str = Ref,
            reason: str = typer.Option(..., "--reason", help="Why (kept in the audit trail)"),
            reviewer: Optional[str] = Reviewer, admin: bool = Admin, tenant: str = Tenant,
            reason_code: Optional[str] = ReasonCode) -> None:
    """Approve an item you claimed (with --admin: any item awaiting review)."""
    _decide(ref, "approved", reason, reviewer, admin, tenant, reason_code)


@app.command("reject")
def reject(ref: str = Ref,
           reason: str = typer.Option(..., "--reason", help="Why (kept in the audit trail)"),
           reviewer: Optional[str] = Reviewer, admin: bool = Admin, tenant: str = Tenant,
           reason_code: Optional[str] = ReasonCode) -> None:
    """Reject an item you claimed (with --admin: any item awaiting review)."""
    _decide(ref, "rejected", reason, reviewer, admin, tenant, reason_code)


@app.command("escalate")
def escalate(ref: str = Ref, note: str = typer.Option(..., "--note", help="Why a senior reviewer should decide it "
                                                                          "(1-1000 characters)"),
             reviewer: Optional[str] = Reviewer,
             senior: bool = typer.Option(False, "--senior", help="As a senior reviewer or admin: escalate an item "
                                                                 "you have not claimed (a claim on it ends)"),
             tenant: str = Tenant) -> None:
    """Send an item you claimed to the escalated queue with a note (issue 17.6); `modq review next --queue
    escalated` claims it."""
    rt, scope = runtime(), tenant_scope(tenant)
    item_id = item_ref(rt, ref, scope)
    try:
        escalations.escalate(rt, item_id, _who(reviewer), note, scope=scope, senior=senior)
    except BadInput as exc:
        fail(str(exc))
    except ModqError as exc:
        fail(str(exc), 1)
    out.print(f"{item_id} escalated")


def _escalated_table(rows: list[dict]) -> None:
    table = Table("id", "status", "escalated", "by", "note", "lease")
    for r in rows:
        esc = r.get("escalation") or {}
        table.add_row(r["id"][:8], r["status"], (esc.get("escalated_at") or "")[:19], esc.get("escalated_by") or "",
                      esc.get("note") or "", r["lease"]["owner"] if r["lease"] else "")
    out.print(table)


@app.command("renew")
def renew(ref: str = Ref, reviewer: Optional[str] = Reviewer,
          lease_seconds: Optional[int] = typer.Option(
              None, "--lease-seconds", help="From now (default: MODQ_REVIEW_LEASE_SECONDS; at most "
                                            "MODQ_REVIEW_MAX_LEASE_SECONDS); a lease ending later is kept"),
          tenant: str = Tenant) -> None:
    """Keep an item you claimed for longer (only while your lease lasts: an ended one is claimed again)."""
    rt, scope = runtime(), tenant_scope(tenant)
    item_id = item_ref(rt, ref, scope)
    try:
        lease = leases.renew(rt, item_id, _who(reviewer), lease_seconds, scope=scope)
    except BadInput as exc:
        fail(str(exc))
    except ModqError as exc:
        fail(str(exc), 1)
    out.print(f"{item_id} yours until {lease.expires_at:%H:%M:%S} UTC ({leases.seconds_left(lease)} s)",
              highlight=False)


@app.command("release")
def release(ref: str = Ref, reviewer: Optional[str] = Reviewer,
            admin: bool = typer.Option(False, "--admin", help="Release a claim someone else holds"),
            tenant: str = Tenant) -> None:
    """Give an item you claimed back to the queue (with --admin: anyone's claim)."""
    rt, scope = runtime(), tenant_scope(tenant)
    item_id = item_ref(rt, ref, scope)
    try:
        review.release(rt, item_id, _who(reviewer), admin=admin, scope=scope)
    except ModqError as exc:
        fail(str(exc), 1)
    out.print(f"{item_id} released")


app.command("prefs")(review_prefs.prefs)  # a reviewer's console preferences or a tenant's defaults (issue 17.8)
