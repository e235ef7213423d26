"""A subject with items in every state, each with personal values of its own, and a scan of every text and JSON
column of every table for those values: what the erasure tests (SQLite and PostgreSQL) share."""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field

from sqlalchemy import JSON, String, Text, select

from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.domain import policy
from moderation.domain.errors import BadInput
from moderation.domain.tenancy import EVERY_TENANT
from moderation.infra.db import transaction
from moderation.infra.lease import LocalLeases
from moderation.infra.schema import Base
from moderation.items import models as m, services as service
from moderation.items.submission import Origin
from moderation.privacy.models import LegalHold
from moderation.review import appeals, services as review
from tests.conftest import jpeg_bytes
from tests.fakes.providers import RecordingPublisher, labels_for

RULE = "subjects: {alert_after: {rejected: 2, within: 7d}}\n"  # the rejections below flag the subject
STATES = ("approved", "flagged", "rejected", "failed", "reviewed", "appealed", "processing", "held")
HOLD_REASON = "court order 2026-17: keep the evidence"
_n = itertools.count(1)


def rule_runtime(settings, provider) -> Runtime:
    """A runtime whose policy flags a subject after 2 rejections (so a subject flag and alert exist)."""
    rt = Runtime(settings, policy.parse(settings.thresholds.read_text() + RULE), InMemoryDispatcher(),
                 RecordingPublisher())
    rt._provider, rt._leases = provider, LocalLeases()
    return rt


@dataclass
class Seeded:
    subject: str
    tenant_id: int
    items: dict[str, str] = field(default_factory=dict)  # state -> item id
    values: dict[str, list[str]] = field(default_factory=dict)  # state -> personal values of that item

    def personal(self, *states: str) -> list[str]:
        return [v for s in states for v in self.values[s]]


def seed(rt, tenant_id: int, tag: str = "") -> Seeded:
    """Items of one subject in every state (the ``processing`` one queued and not processed; the ``held`` one
    rejected and under a legal hold), each with its own external id, file name, metadata and free text."""
    seeded = Seeded(subject=f"uploader-{tag}pv-{next(_n)}", tenant_id=tenant_id)
    label = {"approved": None, "flagged": ("Hate Symbols", 70), "failed": None, "reviewed": ("Hate Symbols", 70)}
    for state in STATES:
        n = next(_n)
        pv = f"pv{n}{tag}x{state}"
        name, data = f"media-{pv}.jpg", jpeg_bytes(width=80 + n, color=(n * 37 % 256, n * 11 % 256, 60))
        (rt.settings.media_root / name).write_bytes(data)
        key = hashlib.sha256(data).hexdigest()
        found = label.get(state, ("Hate Symbols", 95))
        if found:
            rt.provider.by_key[key] = labels_for(*found)
        if state == "failed":
            rt.provider.errors[key] = BadInput(f"could not read {name}")
        item_id = service.submit(name, external_id=f"ext-{pv}", metadata={"handle": f"meta-{pv}"}, rt=rt,
                                 subject_id=seeded.subject, origin=Origin(tenant_id, "test")).item_id
        seeded.items[state], seeded.values[state] = item_id, [f"ext-{pv}", name, f"meta-{pv}"]
        if state != "processing":
            service.process_image(item_id, rt=rt)
        extra = _after(rt, state, item_id, pv)
        seeded.values[state] += extra
    with transaction(rt.settings.database_url) as s:
        s.add(LegalHold(tenant_id=tenant_id, item_id=seeded.items["held"], reason=HOLD_REASON, created_by="test"))
    return seeded


def rejected_item(rt, tenant_id: int, subject: str) -> str:
    """One more item of ``subject``, rejected."""
    n = next(_n)
    data = jpeg_bytes(width=90 + n, color=(n * 53 % 256, 7, n * 3 % 256))
    (rt.settings.media_root / f"again-{n}.jpg").write_bytes(data)
    rt.provider.by_key[hashlib.sha256(data).hexdigest()] = labels_for("Hate Symbols", 95)
    item_id = service.submit(f"again-{n}.jpg", rt=rt, subject_id=subject, origin=Origin(tenant_id, "test")).item_id
    assert service.process_image(item_id, rt=rt) == m.REJECTED
    return item_id


def _after(rt, state: str, item_id: str, pv: str) -> list[str]:
    """What people write about the item after its decision: a review's reason, an appeal's statement."""
    if state == "reviewed":
        assert review.claim(rt, "rev-1", item_id=item_id) is not None
        review.review(rt, item_id, "rev-1", m.REJECTED, f"review note {pv}")
        return [f"review note {pv}"]
    if state == "appealed":
        appeals.file(rt, item_id, f"appeal statement {pv}", f"appellant-{pv}", "test", scope=EVERY_TENANT)
        return [f"appeal statement {pv}", f"appellant-{pv}"]
    return []


def rows(rt, model, *where) -> list:
    with transaction(rt.settings.database_url) as s:
        return list(s.scalars(select(model).where(*where)))


def status_of(rt, item_id: str) -> str:
    with transaction(rt.settings.database_url) as s:
        return s.get(m.Item, item_id).status


def scan(rt, needles: list[str]) -> set[tuple[str, str, str]]:
    """Every (needle, table, column) where a text or JSON column of any table holds ``needle``."""
    found = set()
    with transaction(rt.settings.database_url) as s:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, (String, Text, JSON))]
            for row in s.execute(select(*columns)) if columns else ():
                for column, value in zip(columns, row):
                    text = value if isinstance(value, str) else json.dumps(value, default=str)
                    found |= {(n, table.name, column.name) for n in needles if n in text}
    return found
