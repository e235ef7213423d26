"""`modq review undo` and `modq review override` (issue 17.2): take back your review within the undo window,
or (an operator, as admin) replace a recorded review's verdict with a reason.

Registered on `modq review` by moderation/cli/review.py. The reviewer's name defaults to $USER, as for
`modq review approve`: undo needs the name the review was recorded under.
"""

from __future__ import annotations

import getpass
import json
from typing import Optional

import typer

from moderation.cli.common import choices, fail, item_ref, out, runtime, tenant_option, tenant_scope
from moderation.domain.errors import BadInput, ModqError
from moderation.review import override as overrides, undo as undos

Verdict = choices("Verdict", ("approved", "rejected"))
Ref = typer.Argument(..., help="Item id, id prefix (4+ characters) or external id")
Tenant = tenant_option("review queue")
AsJson = typer.Option(False, "--json", help="Print the outcome as JSON")


def undo(ref: str = Ref,
         reviewer: Optional[str] = typer.Option(None, "--reviewer", help="The name you reviewed it under "
                                                                         "(default: $USER)"),
         tenant: str = Tenant, as_json: bool = AsJson) -> None:
    """Undo your review of an item within MODQ_REVIEW_UNDO_SECONDS: it goes back to its status before, leased to
    you again; its alerts are cancelled (one already sent gets a review.undone event)."""
    rt, scope = runtime(), tenant_scope(tenant)
    item_id = item_ref(rt, ref, scope)
    try:
        done = undos.undo(rt, item_id, reviewer or getpass.getuser(), scope=scope)
    except ModqError as exc:
        fail(str(exc), 1)
    if as_json:
        print(json.dumps(done, indent=2))
        return
    out.print(f"{item_id} {done['verdict']} undone: {done['status']} again, yours until "
              f"{done['lease_expires_at'][11:19]} UTC" + (" (review.undone sent)" if done["followed_up"] else ""),
              highlight=False)


def override(ref: str = Ref,
             verdict: Verdict = typer.Option(..., "--verdict", help="The new verdict: approved or rejected"),
             reason: str = typer.Option(..., "--reason", help="Why (1-1000 characters; audited and sent)"),
             admin_name: Optional[str] = typer.Option(None, "--admin-name", help="Your name in the audit trail "
                                                                                 "(default: $USER)"),
             tenant: str = Tenant, as_json: bool = AsJson) -> None:
    """Override the verdict of an item's recorded review (as an admin), with a reason: audited (override) and
    sent at once (kind override, webhook event review.overridden)."""
    rt, scope = runtime(), tenant_scope(tenant)
    item_id = item_ref(rt, ref, scope)
    try:
        done = overrides.override(rt, item_id, admin_name or getpass.getuser(), str(verdict.value), reason,
                                  scope=scope)
    except BadInput as exc:
        fail(str(exc))
    except ModqError as exc:
        fail(str(exc), 1)
    if as_json:
        print(json.dumps(done, indent=2))
        return
    out.print(f"{item_id} {done['previous_verdict']} -> {done['verdict']} (review by {done['reviewer']} "
              "overridden)", highlight=False)
