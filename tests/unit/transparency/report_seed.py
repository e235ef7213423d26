"""Seeded moderation history for the transparency report: items with their automatic decisions, re-evaluations,
reviews (some undone, some overridden), notices, appeals and statements of reasons, written as rows with the audit
trail the use cases write (the code that writes them in production is not what is under test here; the
end-to-end test drives it). Like the use cases, later decisions overwrite ``decisions.verdict`` and
``reviews.verdict`` and an appeal of an unreviewed item adds a ``reviews`` row: the report must not count those. Random but reproducible (``random.Random(seed)``); times fall before, inside and
after the period, and each tenant also gets decisions exactly at the period's start and end (one counted, one
not). Used by tests/unit/transparency/test_report.py and bench/transparency_chart.py (the README chart)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from moderation.infra.db import transaction
from moderation.infra.schema import Tenant
from moderation.items import models as im
from moderation.review.models import Appeal, Review
from moderation.transparency.models import Notice, Statement

CATEGORIES = (  # (category, weight): what a photo platform mostly restricts
    ("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", 40), ("STATEMENT_CATEGORY_VIOLENCE", 20),
    ("STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", 14), ("STATEMENT_CATEGORY_PROTECTION_OF_MINORS", 6),
    ("STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", 10), ("STATEMENT_CATEGORY_SELF_HARM", 5),
    ("STATEMENT_CATEGORY_SCAMS_AND_FRAUD", 5))
ILLEGAL, INCOMPATIBLE = "DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"
STATES = (("sent", 80), ("pending", 10), ("rejected", 4), ("withdrawn", 6))


@dataclass
class Shape:
    """How much of what: per tenant, items; the rest are shares."""

    items: int = 120
    rejected: float = 0.15
    flagged: float = 0.25
    noticed: float = 0.12
    trusted: float = 0.4
    appealed: float = 0.35
    spread: timedelta = timedelta(days=10)  # times fall this far before the period and after it
    review_hours: tuple[float, float] = (0.2, 30.0)
    notice_hours: tuple[float, float] = (0.5, 48.0)
    appeal_hours: tuple[float, float] = (2.0, 96.0)
    reevaluated: float = 0.1  # of the flagged: a new policy rejected them before a person looked
    undone: float = 0.1  # of the reviews: a first verdict the reviewer took back, then decided again
    overridden: float = 0.15  # of the reviews: an admin replaced the verdict


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


class Seeder:
    def __init__(self, s, rng: random.Random, tenant_id: int, shape: Shape):
        self.s, self.rng, self.tenant_id, self.shape = s, rng, tenant_id, shape

    def hours(self, span: tuple[float, float]) -> timedelta:
        return timedelta(seconds=round(self.rng.uniform(*span) * 3600))

    def statement(self, item: im.Item, decision: str, ref: str, at: datetime, automated: str, source: str) -> None:
        ground = ILLEGAL if self.rng.random() < 0.15 else INCOMPATIBLE
        body = {"category": _pick(self.rng, CATEGORIES), "decision_ground": ground, "automated_decision": automated,
                "source_type": source, "puid": f"{item.id}-{decision}"}
        self.s.add(Statement(puid=body["puid"], tenant_id=self.tenant_id, item_id=item.id, decision=decision,
                             decision_ref=ref, body=body, created_at=at, state=_pick(self.rng, STATES)))

    def audit(self, item: im.Item, action: im.AuditAction, before: str, after: str, at: datetime,
              actor: str = "seed") -> None:
        self.s.add(im.AuditEvent(item_id=item.id, at=at, actor=actor, action=action, from_status=before,
                                 to_status=after, verdict=after if action != im.AuditAction.UNDO else before))
        self.s.flush()  # the trail's ids follow the order of events, as in production

    def item(self, created: datetime) -> None:
        rng, shape = self.rng, self.shape
        roll = rng.random()
        verdict = im.REJECTED if roll < shape.rejected else im.FLAGGED if roll < shape.rejected + shape.flagged \
            else im.APPROVED
        decided = created + timedelta(seconds=rng.randint(1, 300))
        item = im.Item(tenant_id=self.tenant_id, media_uri=f"file:///seed/{rng.getrandbits(64):x}.jpg",
                       media_type="image", status=verdict, verdict=verdict, created_at=created, decided_at=decided)
        self.s.add(item)
        self.s.flush()
        decision = im.Decision(item_id=item.id, verdict=verdict, reasons=[], policy_version="seed", decided_at=decided)
        self.s.add(decision)
        self.audit(item, im.AuditAction.DECIDE, im.PROCESSING, verdict, decided, actor="system")
        final, final_at = verdict, decided
        if verdict == im.FLAGGED and rng.random() < shape.reevaluated:  # decisions.verdict overwritten in place
            final_at = decided + self.hours(shape.review_hours)
            self.audit(item, im.AuditAction.REEVALUATE, im.FLAGGED, im.REJECTED, final_at, actor="ann")
            decision.verdict = item.status = item.verdict = final = im.REJECTED
            self.statement(item, "automatic", f"re-{item.id}", final_at, "AUTOMATED_DECISION_FULLY",
                           "SOURCE_VOLUNTARY")
        elif verdict == im.REJECTED:
            self.statement(item, "automatic", f"decision-{item.id}", decided, "AUTOMATED_DECISION_FULLY",
                           "SOURCE_VOLUNTARY")
        elif verdict == im.FLAGGED:
            final, final_at = self.review(item, decided + self.hours(shape.review_hours), "AUTOMATED_DECISION_PARTIALLY",
                                          "SOURCE_VOLUNTARY")
        elif rng.random() < shape.noticed:
            final, final_at = self.notice(item, decided)
        if final == im.REJECTED and rng.random() < shape.appealed:
            self.appeal(item, final_at)

    def review(self, item: im.Item, at: datetime, automated: str, source: str) -> tuple[str, datetime]:
        verdict = im.REJECTED if self.rng.random() < 0.45 else im.APPROVED
        previous = item.status
        if self.rng.random() < self.shape.undone:  # the other verdict first, taken back within seconds
            slip = im.APPROVED if verdict == im.REJECTED else im.REJECTED
            self.audit(item, im.AuditAction.REVIEW, previous, slip, at - timedelta(seconds=40))
            self.audit(item, im.AuditAction.UNDO, slip, previous, at - timedelta(seconds=30))
        review = Review(item_id=item.id, reviewer="seed", verdict=verdict, reason="seeded",
                        previous_status=previous, reviewed_at=at)
        self.s.add(review)
        self.audit(item, im.AuditAction.REVIEW, previous, verdict, at)
        item.status = item.verdict = verdict
        if verdict == im.REJECTED:
            self.statement(item, "review", f"review-{item.id}", at, automated, source)
        if self.rng.random() < self.shape.overridden:  # reviews.verdict overwritten in place
            replaced, at = verdict, at + self.hours((1, 48))
            verdict = review.verdict = item.status = item.verdict = \
                im.APPROVED if replaced == im.REJECTED else im.REJECTED
            self.audit(item, im.AuditAction.OVERRIDE, replaced, verdict, at, actor="root")
            if verdict == im.REJECTED:
                self.statement(item, "override", f"override-{item.id}", at, automated, source)
        return verdict, at

    def notice(self, item: im.Item, decided: datetime) -> tuple[str, datetime]:
        """A notice on an approved item: a person decides it (no model found anything), or it is still open."""
        trusted = self.rng.random() < self.shape.trusted
        received = decided + self.hours((1, 200))
        notice = Notice(tenant_id=self.tenant_id, item_id=item.id, explanation="seeded", good_faith=True,
                        trusted_flagger=trusted, filed_by="seed", received_at=received)
        self.s.add(notice)
        if self.rng.random() < 0.15:
            return item.verdict, decided  # still open
        hours = self.shape.notice_hours if not trusted else (self.shape.notice_hours[0], self.shape.notice_hours[1] / 3)
        at = received + self.hours(hours)
        source = "SOURCE_TRUSTED_FLAGGER" if trusted else "SOURCE_ARTICLE_16"
        verdict, _ = self.review(item, at, "AUTOMATED_DECISION_NOT_AUTOMATED", source)
        notice.decided_at, notice.outcome, notice.automated = at, verdict, False
        return verdict, at

    def appeal(self, item: im.Item, decided: datetime) -> None:
        filed = decided + self.hours((1, 72))
        appeal = Appeal(item_id=item.id, tenant_id=self.tenant_id, statement="seeded", filed_by="seed",
                        filed_at=filed, original_verdict=im.REJECTED, decided_by_original="seed")
        if self.rng.random() < 0.8:
            overturned = self.rng.random() < 0.3
            at = filed + self.hours(self.shape.appeal_hours)
            new = im.APPROVED if overturned else im.REJECTED
            appeal.state, appeal.outcome = "decided", "overturned" if overturned else "upheld"
            appeal.new_verdict, appeal.decided_by, appeal.decided_at = new, "seed-senior", at
            self.audit(item, im.AuditAction.APPEAL_DECIDE, im.REJECTED, new, at, actor="seed-senior")
            if self.s.query(Review).filter_by(item_id=item.id).first() is None:  # as appeals.decide does
                self.s.add(Review(item_id=item.id, reviewer="seed-senior", verdict=new, reason="appeal",
                                  previous_status=im.REJECTED, reviewed_at=at))
            item.status = item.verdict = new
        self.s.add(appeal)


def tenant(database_url: str, name: str) -> int:
    with transaction(database_url) as s:
        row = Tenant(name=name, created_by="seed")
        s.add(row)
        s.flush()
        return row.id


def seed(database_url: str, tenant_id: int, start: datetime, end: datetime, seed_value: int = 1,
         shape: Shape | None = None) -> None:
    """Items of ``tenant_id`` created from ``shape.spread`` before ``start`` to as long after ``end``, each with
    its decision and what followed it; and two whose decision falls exactly on ``start`` and on ``end``."""
    shape = shape or Shape()
    rng = random.Random(seed_value)
    first, span = start - shape.spread, (end - start + 2 * shape.spread).total_seconds()
    with transaction(database_url) as s:
        seeder = Seeder(s, rng, tenant_id, shape)
        for _ in range(shape.items):
            seeder.item(first + timedelta(seconds=rng.randint(0, int(span))))
        for at in (start, end):
            item = im.Item(tenant_id=tenant_id, media_uri="file:///seed/edge.jpg", media_type="image",
                           status=im.REJECTED, verdict=im.REJECTED, created_at=at - timedelta(minutes=5), decided_at=at)
            s.add(item)
            s.flush()
            s.add(im.Decision(item_id=item.id, verdict=im.REJECTED, reasons=[], policy_version="seed", decided_at=at))
            seeder.audit(item, im.AuditAction.DECIDE, im.PROCESSING, im.REJECTED, at, actor="system")
            seeder.statement(item, "automatic", f"decision-{item.id}", at, "AUTOMATED_DECISION_FULLY",
                             "SOURCE_VOLUNTARY")
