"""Bulk review (issue 17.4): one verdict and one reason for many items, each decided as a single review is.

Two ways to name the items: explicit ids (reviewers and admins, up to ``IDS_MAX``), or every item a queue
filter matches (admins only, up to ``MATCHING_MAX``), with the count the admin confirmed: if the filter matches
another number now, nothing is decided (Conflict), so nobody approves more than they saw.

Each item is taken, then decided by ``services.review`` (its own transaction, audit entry, alert and webhook
events, subject rule, bank entry, undo window). Taking is done a batch at a time in one short transaction: an
item free, or leased to the caller, gets a lease of the caller's; an item leased to someone else is skipped,
even for an admin (a bulk action never takes work another reviewer holds), as are items no longer awaiting
review and items that are missing or of a tenant outside the scope (the same "not found"). The answer lists
every id with its outcome: nothing is left out silently.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import func, select, update

from moderation.domain.errors import BadInput, ModqError
from moderation.domain.tenancy import Scope
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.items.queries import lock_item
from moderation.review import claims, services
from moderation.review.models import Review
from moderation.review.queries import REVIEWABLE, QueueFilter, pending

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.review.bulk")
IDS_MAX = 200  # explicit ids per request
MATCHING_MAX = 5000  # items one "all matching this filter" may decide
BATCH = 100  # items taken per transaction
ID_MAX = 64
REVIEWED, SKIPPED = "reviewed", "skipped"
# Why an item was skipped: the key the API answers, and the words the console shows.
LEASED, NOT_AWAITING, NOT_FOUND, ESCALATED = "leased", "not_awaiting_review", "not_found", "escalated"
REFUSED = "refused"  # the single review refused this item (e.g. a reason code not of its category): detail says why
WHY = {LEASED: "leased to someone else", NOT_AWAITING: "not awaiting review", NOT_FOUND: "not found",
       ESCALATED: "escalated to a senior reviewer", REFUSED: "refused"}


class Forbidden(ModqError):
    """Only an admin may decide every item a filter matches."""


@dataclass(frozen=True)
class Outcome:
    item_id: str
    outcome: str  # reviewed | skipped
    reason: str | None = None  # why skipped: a key of WHY
    detail: str | None = None  # words for a person

    def as_dict(self) -> dict:
        return {"item_id": self.item_id, "outcome": self.outcome, "reason": self.reason, "detail": self.detail}


@dataclass
class BulkResult:
    verdict: str
    results: list[Outcome] = field(default_factory=list)

    @property
    def reviewed(self) -> int:
        return sum(r.outcome == REVIEWED for r in self.results)

    def skipped(self) -> dict[str, int]:
        """Skipped items per reason (only reasons that occurred)."""
        counts: dict[str, int] = {}
        for r in self.results:
            if r.outcome == SKIPPED:
                counts[r.reason] = counts.get(r.reason, 0) + 1
        return counts

    def as_dict(self) -> dict:
        skipped = self.skipped()
        return {"verdict": self.verdict, "requested": len(self.results), "reviewed": self.reviewed,
                "skipped": sum(skipped.values()), "skipped_by_reason": skipped,
                "results": [r.as_dict() for r in self.results]}

    def summary(self) -> str:
        return describe(self.verdict, self.reviewed, self.skipped())


def describe(verdict: str, reviewed: int, skipped: dict[str, int]) -> str:
    """'12 approved, 2 skipped (2 leased to someone else)'."""
    text = f"{reviewed} {verdict}"
    if skipped:
        why = ", ".join(f"{n} {WHY[k]}" for k, n in skipped.items())
        text += f", {sum(skipped.values())} skipped ({why})"
    return text


def bulk(rt: Runtime, actor: str, verdict: str, reason: str, *, item_ids: list[str] | None = None,
         f: QueueFilter | None = None, expected: int | None = None, admin: bool, scope: Scope,
         reason_code: str | None = None) -> BulkResult:
    """Decide ``item_ids`` (or, admins only, every item ``f`` matches in ``scope``, ``expected`` of them) with
    ``verdict`` and ``reason``; every id's outcome in the order given (the queue's order for a filter)."""
    check(verdict, reason)
    if (item_ids is None) == (f is None):
        raise BadInput("item_ids: give item_ids, or a filter with all_matching (not both)")
    ids = _ids(item_ids) if item_ids is not None else _matching_ids(rt, f, expected, admin, scope)
    result = BulkResult(verdict)
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        taken, outcomes = _take(rt, batch, actor, scope)
        try:
            for item_id in batch:
                outcome = outcomes.get(item_id) or _decide(rt, item_id, actor, verdict, reason, scope, reason_code)
                outcomes[item_id] = outcome
                result.results.append(outcome)
        finally:  # skipped after all, or a failure part-way (the database down): give back what was taken and
            # not decided
            _give_back(rt, [i for i in taken if i not in outcomes or outcomes[i].outcome != REVIEWED], actor)
    log.info("bulk_reviewed", actor=actor, verdict=verdict, requested=len(ids), reviewed=result.reviewed)
    return result


def matching(rt: Runtime, f: QueueFilter, scope: Scope) -> int:
    """How many items ``f`` matches in ``scope`` now (leased ones included: the queue lists them too)."""
    with transaction(rt.settings.database_url) as s:
        query = pending(s.get_bind().dialect.name, dataclasses.replace(f, scope=scope), utcnow()).order_by(None)
        return s.scalar(select(func.count()).select_from(query.subquery()))


def check(verdict: str, reason: str) -> None:
    """The verdict and reason a single review would accept, checked before anything is taken."""
    if verdict not in services.VERDICTS:
        raise BadInput(f"verdict: must be one of {', '.join(services.VERDICTS)}")
    if not 1 <= len((reason or "").strip()) <= services.REASON_MAX:
        raise BadInput(f"reason: a reason of 1-{services.REASON_MAX} characters is required")


def _ids(item_ids: list[str]) -> list[str]:
    ids = list(dict.fromkeys(item_ids))  # each id once, in the order given
    if not 1 <= len(ids) <= IDS_MAX:
        raise BadInput(f"item_ids: give 1-{IDS_MAX} item ids ({len(ids)} given); an admin may decide every item "
                       "a filter matches with all_matching")
    if any(not isinstance(i, str) or not 1 <= len(i) <= ID_MAX for i in ids):
        raise BadInput(f"item_ids: each id is a string of 1-{ID_MAX} characters")
    return ids


def _matching_ids(rt: Runtime, f: QueueFilter, expected: int | None, admin: bool, scope: Scope) -> list[str]:
    """The ids ``f`` matches now, if they are as many as the admin confirmed."""
    if not admin:
        raise Forbidden("all_matching: only an admin may decide every item a filter matches; select the items")
    if expected is None or expected < 0:
        raise BadInput("expected_count: the number of matching items you confirmed is required")
    with transaction(rt.settings.database_url) as s:
        query = pending(s.get_bind().dialect.name, dataclasses.replace(f, scope=scope), utcnow())
        ids = list(s.scalars(query.with_only_columns(m.Item.id).limit(MATCHING_MAX + 1)))
    if len(ids) > MATCHING_MAX:
        raise BadInput(f"all_matching: the filter matches over {MATCHING_MAX} items; at most {MATCHING_MAX} are "
                       "decided at once: narrow the filter")
    if len(ids) != expected:
        raise services.Conflict(f"expected_count: the filter now matches {len(ids)} items, not the {expected} "
                                "you confirmed; nothing was decided: count again and confirm")
    return ids


def _take(rt: Runtime, ids: list[str], actor: str, scope: Scope) -> tuple[list[str], dict[str, Outcome]]:
    """Lease to ``actor`` the items of ``ids`` it may decide, in one transaction: (ids newly leased, outcomes
    of those skipped). Items ``actor`` holds already are kept as they are."""
    taken, skipped = [], {}
    now = utcnow()
    until = now + timedelta(seconds=rt.settings.review_lease_seconds)
    with transaction(rt.settings.database_url) as s:
        claims.lock_claims_of(s, actor)  # SQLite: the write lock first, so the checks and leases are one step
        for item_id in sorted(ids):  # rows locked in one order: two bulk actions over the same items never deadlock
            item = lock_item(s, item_id)
            why = _why_not(s, item, actor, scope, now)
            if why is not None:
                skipped[item_id] = Outcome(item_id, SKIPPED, why, WHY[why])
            elif not (item.leased(now) and item.lease_owner == actor):
                item.lease_owner, item.lease_expires_at = actor, until
                taken.append(item_id)
    return taken, skipped


def _why_not(s, item: m.Item | None, actor: str, scope: Scope, now) -> str | None:
    if item is None or not scope.covers(item.tenant_id):
        return NOT_FOUND
    if item.status not in REVIEWABLE or s.scalar(select(Review.id).where(Review.item_id == item.id)):
        return NOT_AWAITING
    if getattr(item, "escalated_at", None) is not None:
        return ESCALATED
    if item.leased(now) and item.lease_owner != actor:
        return LEASED
    return None


def _decide(rt: Runtime, item_id: str, actor: str, verdict: str, reason: str, scope: Scope,
            reason_code: str | None) -> Outcome:
    """One item, as a single review by its lease holder; a race lost meanwhile (e.g. an admin decided it) is
    a skip, not a failure of the whole request."""
    try:
        services.review(rt, item_id, actor, verdict, reason, scope=scope, reason_code=reason_code)
    except services.Conflict as exc:
        return Outcome(item_id, SKIPPED, NOT_AWAITING, str(exc))
    except services.NotFound:
        return Outcome(item_id, SKIPPED, NOT_FOUND, WHY[NOT_FOUND])
    except BadInput as exc:  # about this item only (verdict and reason were checked for all): the others go on
        return Outcome(item_id, SKIPPED, REFUSED, str(exc))
    return Outcome(item_id, REVIEWED)


def _give_back(rt: Runtime, ids: list[str], actor: str) -> None:
    """End the leases bulk took on items it did not decide (still ours: nobody else could take them)."""
    if not ids:
        return
    with transaction(rt.settings.database_url) as s:
        s.execute(update(m.Item).where(m.Item.id.in_(ids), m.Item.lease_owner == actor)
                  .values(lease_owner=None, lease_expires_at=None).execution_options(synchronize_session=False))
