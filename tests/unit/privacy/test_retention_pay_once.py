"""Retention's ``pay_once`` setting (issue 19.1): a purged item's content hash and reusable analysis are kept
(identical content later is still decided without a provider call) or dropped (it is analysed again); hash-bank
entries are never purged by retention, whatever the setting."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from moderation.domain import policy
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.items.banks import services as banks
from moderation.items.banks.models import BankEntry
from moderation.privacy import retention
from tests.conftest import jpeg_bytes
from tests.unit.items.test_pay_once import moderate, runtime
from tests.fakes.providers import FakeProvider, labels_for

CLEAN, BANKED = jpeg_bytes(color=(10, 200, 10)), jpeg_bytes(color=(10, 10, 200))


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider(by_key={hashlib.sha256(CLEAN).hexdigest(): labels_for("Swimwear or Underwear", 60.0)})


def bank_rows(rt) -> list[tuple]:
    with transaction(rt.settings.database_url) as s:
        return [(e.id, e.content_key, e.verdict, e.note, e.removed_at)
                for e in s.scalars(select(BankEntry).order_by(BankEntry.id))]


@pytest.mark.parametrize("setting, analysed_again", [("keep", False), ("drop", True)])
def test_pay_once_entries_follow_the_setting_and_bank_entries_stay(make_settings, media_root, provider, setting,
                                                                    analysed_again):
    rt = runtime(make_settings, provider)
    rt.policy, rt._active = policy.parse(Path(rt.settings.thresholds).read_text()
                                         + f"\nretention:\n  approved_days: 30\n  pay_once: {setting}\n"), None
    with transaction(rt.settings.database_url) as s:
        banks.add(s, hashlib.sha256(BANKED).hexdigest(), "rejected", note="known bad", source="test",
                  added_by="test", tenant_id=1)
    first = moderate(rt, media_root, "a.jpg", CLEAN)
    banked = moderate(rt, media_root, "b.jpg", BANKED)
    assert (first.verdict, banked.verdict, len(provider.calls)) == ("approved", "rejected", 1)
    entries = bank_rows(rt)

    report = retention.purge(rt, now=utcnow() + timedelta(days=200), batch=2)
    assert sum(report.purged.values()) == 2  # both items: approved_days and flagged_rejected_days

    with transaction(rt.settings.database_url) as s:
        item, analysis = s.get(m.Item, first.id), s.get(m.Analysis, first.analysis_id)
        assert item.media_uri == "[purged]" and analysis.labels  # the labels stay either way
        assert (item.content_key is None, analysis.content_key is None) == (analysed_again, analysed_again)
    assert bank_rows(rt) == entries  # never purged by retention
    again = moderate(rt, media_root, "c.jpg", CLEAN)
    assert (again.verdict, len(provider.calls)) == ("approved", 2 if analysed_again else 1)
    assert moderate(rt, media_root, "d.jpg", BANKED).verdict == "rejected"  # the bank still decides it
    assert len(provider.calls) == (2 if analysed_again else 1)
