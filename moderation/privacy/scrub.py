"""Replace one item's personal data with tombstones, in the caller's transaction (issue 19): what retention
purges (``retention``) and an erasure request removes (``erasure``).

Personal data is what identifies a person or their upload: the media URI, metadata and subject id, the raw
provider response, the free text people wrote about it (reviewers' reasons, appeal statements, escalation notes,
notices, audit reasons), and where it lies on the way (a video's source and staged copy, the alerts' copies).
What the law and the reports need stays: verdict, labels and confidences (analyses, decisions), policy version,
times, tenant, statements of reasons (already sent, and scrubbed of URIs when built), appeal outcomes.
An erasure also drops the platform's ``external_id`` (it may name the account, as S3 keys often do) and the
alerts' subject lines that carry it.

An item under legal hold (``holds``) is never scrubbed: the caller asks ``holds.holding`` first and reports it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from moderation.alerts.models import Alert
from moderation.items import models as m
from moderation.items.banks.models import BankEntry
from moderation.privacy.models import TOMBSTONE_ERASED, TOMBSTONE_PURGED
from moderation.review.models import Appeal, Escalation, Review
from moderation.transparency.models import PENDING as UNSENT, REJECTED as REFUSED, Notice, Statement
from moderation.video.models import VideoJob

RETENTION, ERASURE = "retention", "erasure"
KEPT_ACTIONS = ("hold", "release_hold", "purge", "erase")  # audit entries that hold no personal data
REVIEWER_SAYS = "Reviewer's reason"  # domain.statements: decision_facts' last part, a person's free text
# What an alert keeps of its message: the decision, not who or where (its copy already left the building).
ALERT_KEPT = ("item_id", "media_type", "verdict", "top_labels", "policy_version", "decided_at", "kind",
              "previous_verdict", "outcome", "appeal_id", "notice_id", "decision", "automated", "trusted_flagger",
              "received_at", "overridden_at", "reason_code")


def scrub_item(s: Session, item: m.Item, cause: str, now: datetime, *, drop_pay_once: bool = False) -> None:
    """Tombstone ``item``'s personal data everywhere it is kept (``item`` locked by the caller). An erasure always
    drops the pay-once key: for S3 media read in place it is the object's bucket, key and version."""
    mark = TOMBSTONE_ERASED if cause == ERASURE else TOMBSTONE_PURGED
    drop_pay_once = drop_pay_once or cause == ERASURE
    item.media_uri, item.item_metadata, item.subject_id = mark, {}, None
    if item.failure_reason is not None:
        item.failure_reason = mark
    if cause == ERASURE:
        item.external_id = None
    item.purged_at, item.purge_cause, item.erase_requested_at = now, cause, None
    if item.analysis_id is not None and not _shared(s, item):  # the labels stay; the provider's raw answer goes
        values = {"raw": {}, **({"content_key": None} if drop_pay_once else {})}
        s.execute(update(m.Analysis).where(m.Analysis.id == item.analysis_id).values(**values))
    if drop_pay_once:
        item.content_key = None
    _free_text(s, item.id, mark)
    _unsent_statements(s, item.id, mark)
    _alerts(s, item, cause)
    _bank_reasons(s, item.id)
    bank_note = f"{mark} (the reviewer's reason)"  # an entry a reviewer's rejection made: its hash stays
    s.execute(update(BankEntry).where(BankEntry.source == f"review:{item.id}").values(note=bank_note))
    # staged_key stays: our own copy's key (staging prefix + item id), which the job's end deletes by it
    s.execute(update(VideoJob).where(VideoJob.item_id == item.id)
              .values(source_uri=mark, video_metadata={}, status_message=None))


def _shared(s: Session, item: m.Item) -> bool:
    """Pay-once pointed other items at the same analysis (another tenant's, perhaps, or one under a legal
    hold) that still keep theirs: its raw answer is not this item's alone to drop."""
    return s.scalar(select(exists().where(m.Item.analysis_id == item.analysis_id, m.Item.id != item.id,
                                          m.Item.purged_at.is_(None)))) or False


def _free_text(s: Session, item_id: str, mark: str) -> None:
    s.execute(update(Review).where(Review.item_id == item_id).values(reason=mark))
    s.execute(update(Appeal).where(Appeal.item_id == item_id).values(statement=mark, appellant=None))
    s.execute(update(Appeal).where(Appeal.item_id == item_id, Appeal.reason.is_not(None)).values(reason=mark))
    s.execute(update(Escalation).where(Escalation.item_id == item_id).values(note=mark))
    s.execute(update(Notice).where(Notice.item_id == item_id)
              .values(explanation=mark, notifier_name=None, notifier_email=None))
    # audit_events is append-only but for this one change (migration 0012_privacy's trigger); the privacy
    # trail itself (holds, purges, erasures: no personal data) keeps its reasons
    s.execute(update(m.AuditEvent).where(m.AuditEvent.item_id == item_id, m.AuditEvent.reason.is_not(None),
                                         m.AuditEvent.reason != mark, m.AuditEvent.action.not_in(KEPT_ACTIONS))
              .values(reason=mark))


def _alerts(s: Session, item: m.Item, cause: str) -> None:
    for alert in s.scalars(select(Alert).where(Alert.item_id == item.id)):
        alert.message = {k: v for k, v in (alert.message or {}).items() if k in ALERT_KEPT}
        alert.subject = f"modq {alert.kind} [{item.id}]"[:100]  # it named the external id, a subject or a URI


def _unsent_statements(s: Session, item_id: str, mark: str) -> None:
    """A statement not sent yet goes out without the reviewer's words (they may name the person); a sent one
    stays as it was sent (the database keeps it, and so does modq)."""
    unsent = Statement.state.in_((UNSENT, REFUSED))  # refused by the database: never sent either
    for statement in s.scalars(select(Statement).where(Statement.item_id == item_id, unsent)):
        facts = (statement.body or {}).get("decision_facts") or ""
        if (at := facts.find(REVIEWER_SAYS)) >= 0:
            statement.body = {**statement.body, "decision_facts": f"{facts[:at]}{REVIEWER_SAYS}: {mark}"}


def _bank_reasons(s: Session, item_id: str) -> None:
    """A hash-bank match's stored reason quotes the entry's note (a reviewer's words, when a rejection made it):
    the reason keeps which entry decided it, and how."""
    decision = s.scalar(select(m.Decision).where(m.Decision.item_id == item_id))
    if decision is None or not any(isinstance(r, dict) and r.get("kind") == "bank" for r in decision.reasons or []):
        return
    decision.reasons = [{**r, "text": r["text"].split(": ", 1)[0]} if isinstance(r, dict) and r.get("kind") == "bank"
                        and isinstance(r.get("text"), str) else r for r in decision.reasons]
