"""What a statement of reasons says, read from the database in the deciding transaction: ``StatementFacts``
for one decision on one item (``domain.statements``), from that item's rows alone.

- the item: its tenant's name (the puid's first part), media type, upload time (``content_date``), policy version;
- the detections: the rules that fired in its automatic decision (``decisions.reasons``, most severe first, as
  the policy sorted them), with the frame or moment a multi-frame image or a video showed it; and, for a
  person's decision, the category of the reason code they picked (a finding no model measured);
- who decided: a model or hash bank (the automatic decision flagged or rejected it, or a bank matched), a
  person (any decision but the automatic one), or both;
- how it came to be judged: ``notices.source_for`` (an open notice, a trusted flagger's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.domain import taxonomy
from moderation.domain.decisions import AUTOMATIC, Decided
from moderation.domain.statements import Detection, StatementFacts
from moderation.domain.transparency_config import Transparency
from moderation.infra.schema import Tenant
from moderation.items import models as m
from moderation.review.models import Review
from moderation.transparency import notices

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime

FIRED = ("flag", "reject")  # a stored reason's action when its rule fired ("none": the approval's reason)
FOUND = (m.FLAGGED, m.REJECTED)  # an automatic verdict that says the model (or a bank) found something


@dataclass(frozen=True)
class Read:
    facts: StatementFacts
    tenant_id: int
    transparency: Transparency  # the tenant's ``transparency:`` mapping, under its active policy


def read(s: Session, rt: Runtime, event: Decided) -> Read:
    """The facts of ``event`` (a restrictive decision on an item that exists, in this transaction)."""
    item = s.execute(select(m.Item.tenant_id, m.Item.media_type, m.Item.created_at, m.Item.policy_version,
                            Tenant.name).join(Tenant, Tenant.id == m.Item.tenant_id)
                     .where(m.Item.id == event.item_id)).one()
    auto = s.execute(select(m.Decision.verdict, m.Decision.reasons, m.Decision.policy_version)
                     .where(m.Decision.item_id == event.item_id)).first()  # one per item (uq_decisions_item)
    reasons: list[dict[str, Any]] = [r for r in (auto.reasons if auto else []) if isinstance(r, dict)]
    banked = any(r.get("kind") == "bank" for r in reasons)
    by_machine = event.kind == AUTOMATIC or (auto is not None and (auto.verdict in FOUND or banked))
    active = rt.active_policy(item.tenant_id)
    code = event.reason_code or _review_code(s, event)
    measured = measured_detections(reasons) if by_machine else ()
    facts = StatementFacts(
        tenant=item.name, item_id=event.item_id, media_type=item.media_type, content_date=item.created_at,
        application_date=event.at, detections=(*_named(active.reasons.codes, code, measured), *measured),
        policy_version=item.policy_version or (auto.policy_version if auto else ""),  # the version that decided it
        reviewer_reason=event.reason if event.by_person else None,
        reason_code=code if event.by_person else None,
        source=notices.source_for(s, event.item_id),
        decided_by_provider_or_bank=by_machine, reviewed_by_person=event.by_person,
        bank_match=banked and by_machine, decision_ref=event.ref)
    return Read(facts, item.tenant_id, active.transparency)


def measured_detections(reasons: list[dict[str, Any]]) -> tuple[Detection, ...]:
    """The rules that fired, in the decision's order (the most severe first); where in the media, when the
    stored reason says (a video's first moment, a multi-frame image's first frame)."""
    found = []
    for r in reasons:
        if r.get("action") not in FIRED or not isinstance(r.get("label"), str):
            continue
        moment = r.get("first_ms", r.get("offset_ms"))
        found.append(Detection(r["label"], float(r.get("confidence") or 0.0), _int(r.get("frame_index")),
                               _int(moment)))
    return tuple(found)


def _named(codes: dict[str, tuple[str, ...]], code: str | None,
           measured: tuple[Detection, ...]) -> tuple[Detection, ...]:
    """The category of the person's reason code (the policy's ``reasons:``), first: it is why they restricted;
    nothing when no code, an unknown one, or a category one of the measured labels already falls under."""
    if not code:
        return ()
    label = next((name for name, listed in codes.items() if code in listed), None)
    if label is None:
        return ()
    if any(label in taxonomy.ancestors(d.label) for d in measured):
        return ()
    return (Detection(label),)


def _review_code(s: Session, event: Decided) -> str | None:
    """An override's or appeal's restriction stands on the review's reason code, if the review restricted too."""
    if event.kind == AUTOMATIC or event.reason_code:
        return None
    row = s.execute(select(Review.verdict, Review.reason_code).where(Review.item_id == event.item_id)).first()
    return row.reason_code if row is not None and row.verdict == m.REJECTED else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
