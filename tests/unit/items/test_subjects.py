"""Subjects: the history read model and the ``subjects:`` rule, through the real image pipeline and review."""

from __future__ import annotations

import hashlib
import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from moderation.alerts.models import Alert
from moderation.alerts.queries import add_alert
from moderation.domain import policy
from moderation.domain.tenancy import EVERY_TENANT, Scope
from moderation.infra.db import transaction
from moderation.items import models as m, services as service, subjects
from moderation.items.submission import Origin
from moderation.policy.reevaluate import reevaluate
from moderation.review import services as review
from moderation.tenants import services as tenants
from tests.conftest import jpeg_bytes
from tests.fakes.providers import labels_for

RULE = "subjects: {alert_after: {rejected: 3, within: 7d}}\n"
_n = itertools.count(1)


@pytest.fixture
def ruled(rt):
    """``rt`` deciding by the default thresholds file plus a subjects rule (3 rejected within 7 days)."""
    rt.policy = policy.parse(rt.settings.thresholds.read_text() + RULE)
    return rt


@pytest.fixture
def upload(rt, media_root, fake_provider):
    def make(verdict: str = "rejected", subject: str | None = "u-1", tenant_id: int = 1) -> str:
        """A distinct JPEG submitted with ``subject`` and decided ``verdict`` (Hate Symbols 95 / 70 / none)."""
        n = next(_n)
        data = jpeg_bytes(width=100 + n, color=(n % 256, 7, 9))
        (media_root / f"s{n}.jpg").write_bytes(data)
        confidence = {"rejected": 95, "flagged": 70}.get(verdict)
        if confidence:
            fake_provider.by_key[hashlib.sha256(data).hexdigest()] = labels_for("Hate Symbols", confidence)
        item_id = service.submit(f"s{n}.jpg", rt=rt, subject_id=subject, origin=Origin(tenant_id, "test")).item_id
        assert service.process_image(item_id, rt=rt) == verdict
        return item_id

    return make


def subject_alerts(rt) -> list[Alert]:
    with transaction(rt.settings.database_url) as s:
        return list(s.scalars(select(Alert).where(Alert.kind == "subject").order_by(Alert.id)))


def flags(rt) -> list[m.SubjectFlag]:
    with transaction(rt.settings.database_url) as s:
        return list(s.scalars(select(m.SubjectFlag).order_by(m.SubjectFlag.id)))


def age(rt, item_ids: list[str], days: int) -> None:
    """Make items as if submitted ``days`` ago (the rule counts by submission time)."""
    with transaction(rt.settings.database_url) as s:
        for item_id in item_ids:
            created = s.get(m.Item, item_id).created_at
            s.execute(update(m.Item).where(m.Item.id == item_id).values(created_at=created - timedelta(days=days)))


def test_crossing_the_rule_raises_exactly_one_subject_alert(ruled, upload):
    first = [upload(), upload()]
    upload("approved"), upload("flagged"), upload(subject="someone-else"), upload(subject=None)
    assert subject_alerts(ruled) == [] and flags(ruled) == []

    third = upload()
    upload()  # a fourth rejection: still the same crossing

    [alert] = subject_alerts(ruled)
    assert (alert.kind, alert.tenant_id, alert.item_id, alert.attributes) == ("subject", 1, third, {"kind": "subject"})
    assert alert.message["subject_id"] == "u-1" and alert.message["rejected"] == 3
    assert alert.message["rule"] == "rejected>=3 within 7d" and "u-1" in alert.subject
    [flag] = flags(ruled)
    assert (flag.tenant_id, flag.subject_id, flag.count, flag.cleared_at) == (1, "u-1", 3, None)
    assert ruled.dispatcher.alerts.count(alert.id) == 1  # handed on after the commit, like a decision's
    assert subjects.history(ruled.settings.database_url, "u-1", tenant_id=1)["flag"]["count"] == 3 and first


def test_falling_back_under_clears_the_flag_and_the_next_crossing_alerts_again(ruled, upload):
    old = [upload() for _ in range(3)]
    assert len(subject_alerts(ruled)) == 1
    age(ruled, old, days=8)  # those rejections leave the window

    upload()  # one rejected in the window now: under the rule, the flag is cleared
    assert flags(ruled)[0].cleared_at is not None and len(subject_alerts(ruled)) == 1
    upload(), upload()  # three again: a new crossing

    first, second = subject_alerts(ruled)
    assert first.dedup_id != second.dedup_id
    assert [f.cleared_at is None for f in flags(ruled)] == [False, True]


def test_a_review_overturning_a_rejection_clears_the_flag(ruled, upload):
    rejected = [upload() for _ in range(3)]
    review.review(ruled, rejected[0], "alice", "approved", "not hate: a history book", admin=True)
    assert flags(ruled)[0].cleared_at is not None
    upload()  # back to three
    assert len(subject_alerts(ruled)) == 2


def test_a_review_rejecting_a_flagged_item_can_cross(ruled, upload):
    upload(), upload()
    flagged = upload("flagged")
    review.review(ruled, flagged, "alice", "rejected", "confirmed", admin=True)
    [alert] = subject_alerts(ruled)
    assert alert.item_id == flagged


def test_without_a_rule_nothing_is_counted(rt, upload):
    for _ in range(4):
        upload()
    assert subject_alerts(rt) == [] and flags(rt) == []


def test_subjects_are_per_tenant(ruled, upload):
    other = tenants.create(ruled.settings.database_url, "other", "test")["id"]
    upload(), upload(), upload(tenant_id=other), upload(tenant_id=other)
    assert subject_alerts(ruled) == []
    upload(tenant_id=other)
    [alert] = subject_alerts(ruled)
    assert alert.tenant_id == other


def test_a_crossing_another_decision_alerted_first_is_not_alerted_twice(ruled, upload):
    """Two workers rejecting the same subject's items at once: the crossing's dedup_id lets one alert through."""
    first, second = upload(), upload()
    with transaction(ruled.settings.database_url) as s:
        item = s.get(m.Item, second)
        rule = ruled.active_policy(1).subjects
        add_alert(s, subjects.subject_alert(item, rule, 3, 1, item.created_at))  # what the other one wrote
    upload()
    assert len(subject_alerts(ruled)) == 1 and flags(ruled) == [] and first


def test_history_counts_latest_and_first_and_last_submission(rt, upload):
    ids = [upload("approved"), upload(), upload("flagged"), upload()]
    view = subjects.history(rt.settings.database_url, "u-1", tenant_id=1)
    assert view["items"] == 4 and view["counts"] == {"approved": 1, "flagged": 1, "rejected": 2, "failed": 0,
                                                     "pending": 0}
    assert [r["id"] for r in view["latest"]] == ids[::-1]
    assert view["latest"][0].keys() >= {"id", "verdict", "decided_at", "external_id"}
    assert view["first_submitted_at"] <= view["last_submitted_at"] and view["flag"] is None


def test_history_is_per_tenant(rt, upload):
    other = tenants.create(rt.settings.database_url, "other", "test")["id"]
    item_id = upload()
    assert subjects.history(rt.settings.database_url, "u-1", tenant_id=other) is None
    assert subjects.history(rt.settings.database_url, "nobody", tenant_id=1) is None
    assert subjects.of_item(rt.settings.database_url, item_id, scope=Scope(frozenset({other}))) is None
    assert subjects.of_item(rt.settings.database_url, item_id, scope=EVERY_TENANT)["subject_id"] == "u-1"


def test_the_item_page_history_lists_the_other_rejected_items(rt, upload):
    older, newer, _approved = upload(), upload(), upload("approved")
    current = upload()
    view = subjects.of_item(rt.settings.database_url, current, scope=EVERY_TENANT)
    assert [r["id"] for r in view["rejected_items"]] == [newer, older]
    assert subjects.of_item(rt.settings.database_url, upload(subject=None), scope=EVERY_TENANT) is None


def test_a_reevaluation_that_rejects_the_third_item_crosses_the_rule(ruled, upload):
    """A policy change turning a flagged upload into a rejection counts like any other decision."""
    upload(), upload()
    flagged = upload("flagged")
    assert subject_alerts(ruled) == []
    text = ruled.settings.thresholds.read_text()
    assert "{flag: 50, reject: 90}" in text  # Hate Symbols' rule, which decided the flagged upload
    stricter = policy.parse(text.replace("{flag: 50, reject: 90}", "{flag: 50, reject: 60}") + RULE)
    summary = reevaluate(ruled, stricter, actor="test")
    assert summary.rejected == 1
    [alert] = subject_alerts(ruled)
    assert (alert.item_id, alert.message["rejected"]) == (flagged, 3)
