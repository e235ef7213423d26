"""`modq items list|show`: what happened to items, from the item read model (``retry``: items_retry.py).

Registered on the ``items`` group by ``cli/main.py``.
"""

from __future__ import annotations

import json

import typer
from rich.table import Table

from config.settings import get_settings
from moderation.cli.common import choices, fail, out, tenant_option, tenant_scope
from moderation.domain.errors import BadInput
from moderation.items import models as m
from moderation.review.views import item_outcome, item_outcomes

Status = choices("Status", (*m.IN_FLIGHT, *m.TERMINAL))
Verdict = choices("Verdict", m.DECIDED)


def list_(
    status: Status | None = typer.Option(None, help="Only items in this status"),
    verdict: Verdict | None = typer.Option(None, help="Only items with this verdict"),
    limit: int = typer.Option(50, min=1, max=1000), as_json: bool = typer.Option(False, "--json"),
    tenant: str = tenant_option(),
) -> None:
    """Recent items of a tenant, newest first."""
    views = item_outcomes(get_settings().database_url, status=status, verdict=verdict, limit=limit,
                          scope=tenant_scope(tenant))
    if as_json:
        print(json.dumps(views, indent=2))
        return
    out.print(items_table(views))


def items_table(views: list[dict]) -> Table:
    table = Table("id", "media", "status", "top label", "reason")
    for v in views:
        top = max(v["labels"], key=lambda lab: lab["Confidence"], default=None)
        label = f"{top['Name']} {top['Confidence']:.1f}%" if top else "-"
        reason = v["failure_reason"] or "; ".join(v["reasons"])
        table.add_row(v["id"][:8], v["media_uri"].rsplit("/", 1)[-1], v["status"], label, reason)
    return table


def show(ref: str = typer.Argument(..., help="Item id, id prefix (4+ characters) or external id"),
         as_json: bool = typer.Option(False, "--json"), tenant: str = tenant_option()) -> None:
    """Everything about one item of a tenant: status, verdict, labels, reasons, policy version."""
    try:
        view = item_outcome(get_settings().database_url, ref, scope=tenant_scope(tenant))
    except BadInput as exc:  # an id prefix of several items: they are listed
        fail(str(exc))
    if view is None:
        fail(f"no item {ref!r}", 1)
    if as_json:
        print(json.dumps(view, indent=2))
        return
    for key in ("id", "external_id", "subject_id", "media_uri", "status", "verdict", "failure_reason", "provider",
                "model_version", "policy_version", "attempts", "created_at", "decided_at"):
        out.print(f"[bold]{key}[/bold]: {view[key]}", highlight=False)
    for reason in view["reasons"]:
        out.print(f"  reason: {reason}", highlight=False)
    for lab in view["labels"]:
        out.print(f"  label: {lab['Name']} (L{lab['TaxonomyLevel']}, parent {lab['ParentName'] or '-'}) "
                  f"{lab['Confidence']:.1f}%", highlight=False)
