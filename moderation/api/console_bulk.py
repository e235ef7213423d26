"""The console's bulk actions (issue 17.4): rows selected on the queue page (or, admins, every item matching
its filter, after a confirmation showing the count) approved or rejected with one reason, then back to the
queue with what happened ("12 approved, 2 skipped (2 leased to someone else)").

The queue page is console.py's; the outcome travels back in the redirect's query string (counts only, read by
``bulk_notice`` in queue.html), so a reload shows it again but never decides anything again.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import QueryParams

from moderation.api import schemas
from moderation.api.auth import ConsoleUser, check_csrf, runtime
from moderation.api.console import FormLabel, Label, filter_query, queue_filter
from moderation.api.pages import templates
from moderation.domain.errors import BadInput
from moderation.review import bulk
from moderation.review.services import Conflict

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(max_length=128)]
# What the queue page may say after a bulk action: a field refused (nothing decided), or the counts.
ERRORS = {"verdict": "Choose approve or reject.", "reason": "Give one reason (1-1000 characters) for the items.",
          "item_ids": f"Select 1-{bulk.IDS_MAX} items.", "all_matching": "Only an admin may decide all matching items.",
          "expected_count": "The filter matches {now} items now, not the {expected} you confirmed.",
          "too_many": f"The filter matches over {bulk.MATCHING_MAX} items: narrow it.",
          "filter": "The filter is not valid."}
OUTCOME_KEYS = tuple(bulk.WHY)


@router.get("/review/bulk/count")
def matching_count(request: Request, user: ConsoleUser, verdict: schemas.QueueVerdict = "flagged",
                   label: Label = None, media_type: schemas.AnyMediaType = None):
    """How many items the queue's filter matches: the N of "Select all N matching this filter"."""
    f = queue_filter(user, verdict, label, media_type)
    return {"count": bulk.matching(runtime(request), f, f.scope), "max": bulk.MATCHING_MAX}


@router.post("/review/bulk")
def bulk_review(request: Request, user: ConsoleUser, csrf: Csrf = "",
                verdict: Annotated[str, Form(max_length=16)] = "",
                reason: Annotated[str, Form(max_length=1000)] = "",
                reason_code: Annotated[str, Form(max_length=64)] = "",  # issue 17.6's choice, when the bar has one
                item_ids: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
                all_matching: Annotated[bool, Form()] = False,
                expected_count: Annotated[int | None, Form(ge=0, le=bulk.MATCHING_MAX)] = None,
                queue_verdict: Annotated[schemas.QueueVerdict, Form()] = "flagged", label: FormLabel = None,
                media_type: Annotated[schemas.AnyMediaType, Form()] = None):
    """Decide the selected items (or all matching), then back to the queue, filters kept, saying what happened."""
    check_csrf(user, csrf)
    f = queue_filter(user, queue_verdict, label, media_type)
    back = filter_query(f)
    try:
        result = bulk.bulk(runtime(request), user.principal.actor, verdict, reason,
                           item_ids=None if all_matching else item_ids, f=f if all_matching else None,
                           expected=expected_count, admin=user.principal.is_admin, scope=f.scope,
                           reason_code=reason_code or None)
    except bulk.Forbidden:
        return _back(back, {"bulk_error": "all_matching"})
    except BadInput as exc:  # "field: why"; all_matching here is an admin's filter matching over MATCHING_MAX
        field = {"all_matching": "too_many"}.get(field := str(exc).split(":", 1)[0], field)
        return _back(back, {"bulk_error": field if field in ERRORS else "filter"})
    except Conflict:  # the count changed since the admin confirmed it
        now = bulk.matching(runtime(request), f, f.scope)
        return _back(back, {"bulk_error": "expected_count", "bulk_now": now, "bulk_expected": expected_count})
    skipped = result.skipped()
    return _back(back, {"bulk": verdict, "bulk_reviewed": result.reviewed,
                        **{f"bulk_{k}": n for k, n in skipped.items()}})


def _back(query: dict, outcome: dict) -> RedirectResponse:
    return RedirectResponse("/?" + urlencode({**query, **outcome}), status_code=303)


def bulk_notice(params: QueryParams) -> tuple[str, str] | None:
    """What the queue page says after a bulk action: ("error", text) or ("done", "12 approved, 2 skipped
    (2 leased to someone else)"); None when the URL says nothing (or nothing this page wrote)."""
    error = params.get("bulk_error")
    if error in ERRORS:
        now, expected = _count(params, "bulk_now"), _count(params, "bulk_expected")
        if error == "expected_count" and (now is None or expected is None):
            return None
        return "error", "Nothing was decided. " + ERRORS[error].format(now=now, expected=expected)
    verdict, reviewed = params.get("bulk"), _count(params, "bulk_reviewed")
    if verdict not in bulk.services.VERDICTS or reviewed is None:
        return None
    skipped = {k: n for k in OUTCOME_KEYS if (n := _count(params, f"bulk_{k}"))}
    return "done", bulk.describe(verdict, reviewed, skipped)


def _count(params: QueryParams, name: str) -> int | None:
    value = params.get(name, "")
    return int(value) if value.isdigit() and len(value) <= 6 else None


templates.env.globals["bulk_notice"] = bulk_notice  # queue.html: bulk_notice(request.query_params)


def bulk_reason_codes(request: Request, principal) -> dict[str, tuple[str, ...]]:
    """For the bulk bar's select: category -> codes of the policy of the user's tenant (the deployment's when the
    token acts for several: an item whose own policy lacks the code chosen is reported refused, not decided)."""
    return runtime(request).active_policy(principal.scope.only()).reasons.codes


templates.env.globals["bulk_reason_codes"] = bulk_reason_codes
