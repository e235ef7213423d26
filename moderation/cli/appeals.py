"""`modq appeals list|decide`: the appeals queue from a terminal (issue 17; docs/api.md "Appeals").

Through ``moderation.review.appeals`` (no HTTP), with the same rules as the API: whoever made the decision
appealed (by name: ``--reviewer alice`` is ``alice (token 2)``) cannot decide its appeal.
"""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.table import Column, Table

from moderation.cli.common import choices, fail, out, runtime, tenant_option, tenant_scope
from moderation.domain.errors import BadInput, ModqError
from moderation.review import appeals

app = typer.Typer(help="Appeals of decided items: list the pending ones, decide one.", no_args_is_help=True)
Outcome = choices("Outcome", appeals.OUTCOMES)
Verdict = choices("Verdict", ("approved", "rejected"))
Tenant = tenant_option("appeals")


@app.command("list")
def list_(tenant: str = Tenant, limit: int = typer.Option(50, min=1, max=1000),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """Pending appeals, oldest first: the decision appealed, who made it, the statement."""
    rows = appeals.queue(runtime(), scope=tenant_scope(tenant), limit=limit)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("item", "filed", "appealed", "decided by", "statement", "lease")
    table.columns.insert(0, Column("appeal", no_wrap=True))  # the id `modq appeals decide` takes, whole
    for r in rows:
        table.add_row(r["id"], r["item_id"][:8], (r["filed_at"] or "")[:19], r["original"]["verdict"],
                      r["original"]["decided_by"], r["statement"][:60], r["lease"]["owner"] if r["lease"] else "")
    out.print(table)


@app.command("decide")
def decide(appeal_id: str = typer.Argument(..., help="The appeal's id (modq appeals list)"),
           outcome: Outcome = typer.Option(..., "--outcome", help="upheld: the verdict stands; overturned: "
                                                                  "--verdict replaces it"),
           verdict: Optional[Verdict] = typer.Option(None, "--verdict", help="The new verdict (when overturned)"),
           reason: str = typer.Option(..., "--reason", help="Why (audited, and sent to the platform)"),
           reviewer: str = typer.Option(..., "--reviewer", metavar="NAME", help="Your name: the audit trail's; "
                                                                                "not whoever made the decision"),
           tenant: str = Tenant) -> None:
    """Uphold or overturn a pending appeal (exit 1: no such appeal, decided already, or yours to stay out of)."""
    try:
        done = appeals.decide(runtime(), appeal_id, reviewer, outcome.value, verdict.value if verdict else None,
                              reason, scope=tenant_scope(tenant))
    except BadInput as exc:
        fail(str(exc))
    except ModqError as exc:
        fail(str(exc), 1)
    out.print(f"appeal {done['id']} {done['outcome']}: item {done['item_id']} is {done['new_verdict']}",
              highlight=False, soft_wrap=True)
