"""A tenant's history for the retention tests (issue 19): items in every state, each through the real use cases
(fake provider) and each with its own personal values (media file name, metadata, subject, free text people
wrote), so a scan of every text and JSON column of every table can tell which survived a purge.

Used by tests/unit/privacy/test_retention.py (SQLite) and tests/integration/test_retention_pg.py (PostgreSQL)."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import String, Text, select, update

from moderation.domain.errors import BadInput
from moderation.domain.tenancy import EVERY_TENANT
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.infra.schema import Base
from moderation.items import models as m, services as items
from moderation.privacy.models import LegalHold
from moderation.review import appeals, escalations, services as review
from moderation.review.models import Appeal, Review
from moderation.review.queries import QueueFilter
from moderation.transparency import notice_filing
from moderation.transparency.notice_input import NoticeIn
from moderation.video.models import VideoJob
from tests.conftest import jpeg_bytes
from tests.fakes.providers import labels_for

_n = itertools.count(1)
FLAG, REJECT = ("Hate Symbols", 70), ("Hate Symbols", 95)  # the default thresholds: flagged, rejected


@dataclass
class Seeded:
    ids: dict[str, str] = field(default_factory=dict)  # state name -> item id
    personal: dict[str, list[str]] = field(default_factory=dict)  # state name -> its personal values


class Seeder:
    def __init__(self, rt, media_root, fake_provider):
        self.rt, self.media_root, self.fake = rt, media_root, fake_provider
        self.seeded = Seeded()

    def item(self, state: str, label: tuple[str, float] | None, process: bool = True) -> str:
        """An item of ``state`` with personal values named after it, through submit and (``process``) the
        image pipeline."""
        n = next(_n)
        data = jpeg_bytes(width=120 + n, color=((n * 53) % 256, 40, 90))
        name = f"pv-uri-{state}.jpg"
        (self.media_root / name).write_bytes(data)
        if label:
            self.fake.by_key[hashlib.sha256(data).hexdigest()] = labels_for(*label)
        values = [f"pv-uri-{state}", f"pv-meta-{state}", f"pv-subj-{state}"]
        item_id = items.submit(name, external_id=f"ext-{n}", metadata={"account": f"pv-meta-{state}"},
                               rt=self.rt, subject_id=f"pv-subj-{state}").item_id
        if process:
            items.process_image(item_id, rt=self.rt)
        self.seeded.ids[state], self.seeded.personal[state] = item_id, values
        return item_id

    def said(self, state: str, *texts: str) -> None:
        self.seeded.personal[state].extend(texts)

    def reviewed(self, state: str, verdict: str) -> str:
        item_id = self.item(state, FLAG)
        review.claim(self.rt, "alice", QueueFilter(), item_id=item_id)
        review.review(self.rt, item_id, "alice", verdict, f"pv-reason-{state}")
        self.said(state, f"pv-reason-{state}")
        return item_id


def seed(rt, media_root, fake_provider) -> Seeded:
    """Every state: approved, flagged, rejected, failed (never reviewed); reviewed both ways; appealed and
    decided; escalated; noticed then reviewed; under legal hold; an erasure waiting for its end; and one still
    queued (never purged)."""
    sd = Seeder(rt, media_root, fake_provider)
    sd.item("approved", None)
    sd.item("flagged", FLAG)
    sd.item("rejected", REJECT)
    failed = sd.item("failed", None, process=False)
    _fail(rt, sd, failed)
    sd.reviewed("reviewed-ok", m.APPROVED)
    appealed = sd.reviewed("appealed", m.REJECTED)
    appeal = appeals.file(rt, appealed, "pv-statement-appealed", "pv-appellant-appealed", "forum (token 1)",
                          scope=EVERY_TENANT)
    appeals.decide(rt, appeal["id"], "bob (token 3)", "upheld", None, "pv-appeal-reason-appealed",
                   scope=EVERY_TENANT)
    sd.said("appealed", "pv-statement-appealed", "pv-appellant-appealed", "pv-appeal-reason-appealed")
    escalated = sd.item("escalated", FLAG)
    review.claim(rt, "alice", QueueFilter(), item_id=escalated)
    escalations.escalate(rt, escalated, "alice", "pv-note-escalated", scope=EVERY_TENANT)
    sd.said("escalated", "pv-note-escalated")
    noticed = sd.item("noticed", None)
    notice_filing.file(rt, NoticeIn(explanation="pv-explanation-noticed", external_id=_external_id(rt, noticed),
                                    notifier_name="pv-name-noticed", notifier_email="pv-email-noticed@example.org",
                                    good_faith=True), tenant_id=1, actor="forum-backend")
    sd.said("noticed", "pv-explanation-noticed", "pv-name-noticed", "pv-email-noticed@example.org")
    review.claim(rt, "carol", QueueFilter(), item_id=noticed)
    review.review(rt, noticed, "carol", m.REJECTED, "pv-reason-noticed")
    sd.said("noticed", "pv-reason-noticed")
    held = sd.reviewed("held", m.REJECTED)
    _video(rt, sd)
    erased = sd.item("erase-requested", None)
    sd.item("queued", None, process=False)
    with transaction(rt.settings.database_url) as s:
        s.add(LegalHold(tenant_id=1, item_id=held, reason="court order 42", created_by="cli:admin"))
        s.execute(update(m.Item).where(m.Item.id == erased).values(erase_requested_at=utcnow()))
    return sd.seeded


def _fail(rt, sd: Seeder, item_id: str) -> None:
    data = (sd.media_root / "pv-uri-failed.jpg").read_bytes()
    sd.fake.errors[hashlib.sha256(data).hexdigest()] = BadInput("pv-failure-failed: not an image we read")
    items.process_image(item_id, rt=rt)
    sd.said("failed", "pv-failure-failed")


def _video(rt, sd: Seeder) -> None:
    """A stored video approved by Rekognition, written as the rows its job leaves (running the job needs
    botocore stubs; tests/unit/video drive it): the source and staged copy, and the job's metadata."""
    with transaction(rt.settings.database_url) as s:
        item = m.Item(media_uri="s3://ugc/pv-uri-video.mp4", media_type="video", status=m.APPROVED,
                      verdict=m.APPROVED, subject_id="pv-subj-video", item_metadata={"account": "pv-meta-video"},
                      policy_version="seed", decided_at=utcnow())
        s.add(item)
        s.flush()
        s.add(VideoJob(item_id=item.id, provider="rekognition", state="succeeded", job_id="job-1",
                       source_uri="s3://ugc/pv-staged-video.mp4",  # read in place: the upload's own key
                       staged_key=f"modq-staging/{item.id}/1.mp4",  # our copy's key: item id, no personal data
                       video_metadata={"Format": "pv-meta-video"}, status_message="pv-status-video"))
        s.add(m.AuditEvent(item_id=item.id, actor="system", action=m.AuditAction.DECIDE, from_status=m.SUBMITTED,
                           to_status=m.APPROVED, verdict=m.APPROVED, policy_version="seed"))
        sd.seeded.ids["video"] = item.id
    sd.seeded.personal["video"] = ["pv-uri-video", "pv-subj-video", "pv-meta-video", "pv-staged-video",
                                   "pv-status-video"]


def _external_id(rt, item_id: str) -> str:
    with transaction(rt.settings.database_url) as s:
        return s.get(m.Item, item_id).external_id


def later(days: float):
    """A moment ``days`` from now: time passing, without sleeping."""
    return utcnow() + timedelta(days=days)


def scan(database_url: str, values: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, value) for each of ``values`` found in any text or JSON column of any table."""
    found = []
    with transaction(database_url) as s:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (String, Text)) or "JSON" in type(c.type).__name__]
            if not columns:
                continue
            for row in s.execute(select(*columns)):
                for column, cell in zip(columns, row):
                    text = str(cell)
                    found += [(table.name, column.name, v) for v in values if v in text]
    return found


def status_of(database_url: str, item_id: str) -> tuple[str, object]:
    with transaction(database_url) as s:
        item = s.get(m.Item, item_id)
        return item.status, item.purged_at


def age(database_url: str, days: float) -> None:
    """Move every item's decision, last change and review ``days`` into the past: time passing, as the
    database sees it (for the command, which purges as of the wall clock)."""
    shift = timedelta(days=days)
    with transaction(database_url) as s:
        for row in s.scalars(select(m.Item)):
            values = {"updated_at": row.updated_at - shift}
            if row.decided_at is not None:
                values["decided_at"] = row.decided_at - shift
            s.execute(update(m.Item).where(m.Item.id == row.id).values(**values))
        for review_row in s.scalars(select(Review)):
            review_row.reviewed_at -= shift
        for appeal in s.scalars(select(Appeal).where(Appeal.decided_at.is_not(None))):
            appeal.decided_at -= shift
