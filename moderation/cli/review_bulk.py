"""`modq review bulk`: one verdict and one reason for many items (issue 17.4), each decided as a single review.

Registered on `modq review` by moderation/cli/review.py. `--ids` names the items; `--all-matching` (with
`--admin`) decides every item a queue filter matches, if they are as many as `--expected` says (count them with
`modq review bulk --all-matching --count`). Items leased to someone else are skipped, never taken.
"""

from __future__ import annotations

import getpass
import json
from typing import Optional

import typer
from rich.table import Table

from moderation.api.review_context import known_label
from moderation.cli.common import choices, fail, out, runtime, tenant_option, tenant_scope
from moderation.domain.errors import BadInput, ModqError
from moderation.domain.tenancy import Scope
from moderation.items.queries import item_id_for
from moderation.review import bulk as bulk_review
from moderation.review.queries import QueueFilter

Verdict = choices("Verdict", ("approved", "rejected"))
Awaiting = choices("Awaiting", ("flagged", "rejected"))
MediaType = choices("MediaType", ("image", "video"))


def bulk(verdict: Optional[Verdict] = typer.Option(None, "--verdict", help="approved or rejected, for every item"),
         reason: Optional[str] = typer.Option(None, "--reason", help="One reason for every item (audited, sent)"),
         reason_code: Optional[str] = typer.Option(None, "--reason-code", help="One of the policy's reason codes "
                                                                               "(its reasons: section), for every item"),
         ids: Optional[str] = typer.Option(None, "--ids", help="Comma-separated item ids, id prefixes or external "
                                                               f"ids (at most {bulk_review.IDS_MAX})"),
         all_matching: bool = typer.Option(False, "--all-matching", help="Every item the queue filter matches "
                                                                         "(needs --admin and --expected)"),
         expected: Optional[int] = typer.Option(None, "--expected", min=0, help="How many items you confirmed "
                                                                                "match (see --count)"),
         count: bool = typer.Option(False, "--count", help="With --all-matching: only print how many match"),
         queue: Awaiting = typer.Option("flagged", "--queue", help="The queue filter: automatic verdict"),
         label: Optional[str] = typer.Option(None, "--label", help="The queue filter: label or any under it"),
         media_type: Optional[MediaType] = typer.Option(None, "--media-type", help="The queue filter: media"),
         reviewer: Optional[str] = typer.Option(None, "--reviewer", help="Your name (default: $USER)"),
         admin: bool = typer.Option(False, "--admin", help="Act as an admin (needed for --all-matching)"),
         as_json: bool = typer.Option(False, "--json"),
         tenant: str = tenant_option("review queue")) -> None:
    """Approve or reject many items with one reason: --ids a,b,c, or (admins) --all-matching --expected N with
    queue filters. Every item is listed with its outcome; items leased to someone else are skipped."""
    rt, scope = runtime(), tenant_scope(tenant)
    if (ids is None) == (not all_matching):
        fail("give --ids or --all-matching (one of them)")
    try:
        label = known_label(label)  # a typo is an error, not an empty count
    except ValueError as exc:
        fail(f"--label: {exc}")
    f = QueueFilter(verdict=queue.value, label=label, media_type=media_type.value if media_type else None)
    if count:
        print(bulk_review.matching(rt, f, scope))
        return
    if verdict is None or reason is None:
        fail("--verdict and --reason are required")
    try:
        result = bulk_review.bulk(rt, reviewer or getpass.getuser(), verdict.value, reason,
                                  item_ids=_resolve(rt, ids, scope) if ids is not None else None,
                                  f=f if all_matching else None, expected=expected, admin=admin, scope=scope,
                                  reason_code=reason_code)
    except BadInput as exc:
        fail(str(exc))
    except ModqError as exc:  # Conflict (the count changed), Forbidden (no --admin)
        fail(str(exc), 1)
    if as_json:
        print(json.dumps(result.as_dict(), indent=2))
        return
    table = Table("item", "outcome", "why")
    for r in result.results:
        table.add_row(r.item_id, r.outcome, r.detail or "")
    out.print(table)
    out.print(result.summary(), highlight=False)


def _resolve(rt, ids: str, scope: Scope) -> list[str]:
    """Each reference as an item id; one that names nothing stays as given (it is answered "not found")."""
    refs = [ref.strip() for ref in ids.split(",") if ref.strip()]
    return [item_id_for(rt.settings.database_url, ref, scope) or ref for ref in refs]
