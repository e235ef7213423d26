"""Paying once: identical content reuses an analysis; banked content is decided without a provider call."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import event, func, select

from moderation.items.banks import services as banks
from moderation.providers import instrumented
from moderation.domain import policy
from moderation.items import services as service
from moderation.domain.errors import TransientFault
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.infra.lease import LocalLeases
from moderation.items import models as m
from moderation.infra.db import session_factory, transaction
from moderation.items.banks.models import BankEntry
from moderation.providers.models import ProviderCall
from tests.conftest import jpeg_bytes
from tests.fakes.providers import FakeProvider, RecordingPublisher, labels_for

IMAGE = jpeg_bytes(color=(200, 30, 30))
KEY = hashlib.sha256(IMAGE).hexdigest()


def runtime(make_settings, provider, **overrides) -> Runtime:
    settings = make_settings(**overrides)
    rt = Runtime(settings, policy.load(settings.thresholds), InMemoryDispatcher(), RecordingPublisher())
    rt._provider = instrumented.instrument(provider, settings)  # as in production: the calls are noted for accounting
    rt._leases = LocalLeases()
    return rt


def use_policy(rt, new: policy.ThresholdPolicy) -> None:
    """Switch the thresholds file the runtime decides with (no version applied in the database)."""
    rt.policy, rt._active = new, None


def moderate(rt, media_root, name: str, data: bytes = IMAGE) -> m.Item:
    (media_root / name).write_bytes(data)
    item_id = service.submit(name, rt=rt).item_id
    service.process_image(item_id, rt=rt)
    with transaction(rt.settings.database_url) as s:
        item = s.get(m.Item, item_id)
        s.expunge(item)
        return item


def calls(rt) -> list[tuple[str, str, int]]:
    with transaction(rt.settings.database_url) as s:
        return sorted(s.execute(select(ProviderCall.outcome, ProviderCall.item_id, ProviderCall.calls)).all())


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider(by_key={KEY: labels_for("Graphic Violence", 95.0)})


def test_second_identical_submit_reuses_the_analysis(make_settings, media_root, provider):
    rt = runtime(make_settings, provider)
    first = moderate(rt, media_root, "a.jpg")
    second = moderate(rt, media_root, "copy-of-a.jpg")
    assert len(provider.calls) == 1
    assert (first.verdict, second.verdict) == ("rejected", "rejected")
    assert second.analysis_id == first.analysis_id and second.content_key == KEY
    with transaction(rt.settings.database_url) as s:
        reason = s.scalar(select(m.AuditEvent.reason).where(m.AuditEvent.item_id == second.id,
                                                            m.AuditEvent.action == "decide"))
        assert s.scalar(select(func.count()).select_from(m.Analysis)) == 1
    assert reason.endswith(f"analysis #{first.analysis_id} of item {first.id} reused (same content, no provider call)")
    assert calls(rt) == sorted([("ok", first.id, 1), ("reused", second.id, 1)])
    assert len(rt.dispatcher.alerts) == 2  # each item still gets its own decision alert


def test_reuse_rejudges_with_the_active_policy(make_settings, media_root, provider, tmp_path):
    rt = runtime(make_settings, provider)
    moderate(rt, media_root, "a.jpg")
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text("min_confidence: 50\ndefault: {flag: 99, reject: null}\n"
                       "labels:\n  Graphic Violence: {flag: 99, reject: null}\n")
    use_policy(rt, policy.load(lenient))
    assert moderate(rt, media_root, "b.jpg").verdict == "approved"
    assert len(provider.calls) == 1


def test_dedupe_off_calls_every_time(make_settings, media_root, provider):
    rt = runtime(make_settings, provider, dedupe=False)
    moderate(rt, media_root, "a.jpg")
    moderate(rt, media_root, "b.jpg")
    assert len(provider.calls) == 2


def test_a_new_model_version_is_not_reused(make_settings, media_root, provider):
    rt = runtime(make_settings, provider)
    moderate(rt, media_root, "a.jpg")
    provider.model_version = "fake-2"  # what the offline model declares: its answers now would differ
    moderate(rt, media_root, "b.jpg")
    assert len(provider.calls) == 2


@pytest.mark.parametrize("stored_min, now_min, reused", [(50, 50, True), (40, 50, True), (60, 50, False)])
def test_reuse_needs_an_analysis_that_asked_for_at_least_as_much(make_settings, media_root, stored_min, now_min,
                                                                  reused, tmp_path):
    provider = FakeProvider(by_key={KEY: labels_for("Graphic Violence", 45.0)})
    rt = runtime(make_settings, provider)

    def with_min(value):
        path = tmp_path / f"p{value}.yaml"
        path.write_text(f"min_confidence: {value}\ndefault: {{flag: 40, reject: null}}\n")
        return policy.load(path)

    use_policy(rt, with_min(stored_min))
    moderate(rt, media_root, "a.jpg")
    use_policy(rt, with_min(now_min))
    second = moderate(rt, media_root, "b.jpg")
    assert len(provider.calls) == (1 if reused else 2)
    # A 45% label from an analysis asked at 40 is dropped at 50: the same answer a new call would give.
    assert second.verdict == "approved"


def test_a_failed_call_is_recorded_and_nothing_is_reused(make_settings, media_root, provider):
    provider.errors[KEY] = TransientFault("Rekognition ThrottlingException (fake)")
    rt = runtime(make_settings, provider)
    (media_root / "a.jpg").write_bytes(IMAGE)
    item_id = service.submit("a.jpg", rt=rt).item_id
    with pytest.raises(TransientFault):
        service.process_image(item_id, rt=rt)
    assert calls(rt) == [("throttled", item_id, 1)]
    del provider.errors[KEY]
    assert service.process_image(item_id, rt=rt) == "rejected"
    assert sorted(c[0] for c in calls(rt)) == ["ok", "throttled"]


def bank(rt, verdict: str, key: str = KEY, note: str = "known", pdq: str | None = None) -> int:
    with transaction(rt.settings.database_url) as s:
        entry, _ = banks.add(s, key, verdict, note=note, source="test", added_by="tester", pdq=pdq)
        return entry.id


@pytest.mark.parametrize("verdict, alerts", [("rejected", 1), ("approved", 0)])
def test_banked_content_is_decided_without_a_provider_call(make_settings, media_root, provider, verdict, alerts):
    rt = runtime(make_settings, provider)
    entry = bank(rt, verdict, note="CSAM hash list 2026-11" if verdict == "rejected" else "brand logo")
    item = moderate(rt, media_root, "a.jpg")
    assert provider.calls == []
    assert item.verdict == verdict and item.analysis_id is None
    with transaction(rt.settings.database_url) as s:
        decision = s.scalar(select(m.Decision).where(m.Decision.item_id == item.id))
        assert decision.reasons[0]["bank_entry"] == entry and decision.reasons[0]["text"].startswith(
            f"hash bank entry #{entry} ({verdict}, same content)")
    assert calls(rt) == [("banked", item.id, 1)]
    assert len(rt.dispatcher.alerts) == alerts


def test_a_removed_bank_entry_no_longer_decides(make_settings, media_root, provider):
    rt = runtime(make_settings, provider)
    entry = bank(rt, "approved")
    with transaction(rt.settings.database_url) as s:
        banks.remove(s, entry, "tester")
    assert moderate(rt, media_root, "a.jpg").verdict == "rejected"
    assert len(provider.calls) == 1


def test_the_bank_wins_over_a_reusable_analysis(make_settings, media_root, provider):
    rt = runtime(make_settings, provider)
    moderate(rt, media_root, "a.jpg")
    bank(rt, "approved", note="reviewed: a film still")
    assert moderate(rt, media_root, "b.jpg").verdict == "approved"
    assert len(provider.calls) == 1


def test_bank_add_refuses_a_conflicting_verdict_and_bad_verdicts(rt):
    bank(rt, "rejected")
    with transaction(rt.settings.database_url) as s:
        same, created = banks.add(s, KEY, "rejected", source="t", added_by="t")
        assert not created
    with pytest.raises(Exception, match="already banked as rejected"):
        bank(rt, "approved")
    with pytest.raises(Exception, match="bank verdict must be one of rejected, approved"):
        bank(rt, "flagged")


def scene(shift: int = 0, quality: int = 90) -> bytes:
    """A photo-like picture with structure (PDQ needs features), optionally shifted in colour and re-encoded."""
    import io

    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:240, 0:320]
    rgb = np.stack([(x * 0.8 + shift) % 256, (y * 1.1) % 256, ((x + y) * 0.5) % 256], axis=-1).astype("uint8")
    rgb[60:180, 100:220] = (240, 240, 240)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.mark.parametrize("distance, matched", [(31, True), (0, False)])
def test_pdq_matches_a_reencoded_near_duplicate(make_settings, media_root, provider, distance, matched):
    from moderation.infra.media.imaging import prepare

    rt = runtime(make_settings, provider, bank_pdq_distance=distance)
    original, near = scene(), scene(shift=3, quality=60)
    assert original != near
    bank(rt, "rejected", key=hashlib.sha256(original).hexdigest(), pdq=banks.pdq_hex(prepare(original).pil()))
    item = moderate(rt, media_root, "near.jpg", near)
    assert (item.verdict == "rejected" and not provider.calls) is matched
    if matched:
        with transaction(rt.settings.database_url) as s:
            reason = s.scalar(select(m.Decision.reasons).where(m.Decision.item_id == item.id))[0]
        assert 0 < reason["distance"] <= distance


def test_pdq_ignores_featureless_images():
    from moderation.infra.media.imaging import prepare

    assert banks.pdq_hex(prepare(jpeg_bytes()).pil()) is None  # one flat colour: any two would "match"


def test_bank_entries_keep_removed_rows(rt):
    entry = bank(rt, "rejected")
    with transaction(rt.settings.database_url) as s:
        banks.remove(s, entry, "tester")
        assert banks.entries(s) == []
        assert [e.id for e in banks.entries(s, include_removed=True)] == [entry]
        with pytest.raises(Exception, match=f"no active bank entry #{entry}"):
            banks.remove(s, entry, "tester")
        assert s.scalar(select(BankEntry.removed_by).where(BankEntry.id == entry)) == "tester"


def test_pdq_distance_without_pdqhash_fails_fast_naming_the_setting(make_settings, monkeypatch):
    import importlib.util

    from config.settings import SettingsError, load_settings

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pdqhash" else real(name, *a))
    with pytest.raises(SettingsError, match=r"MODQ_BANK_PDQ_DISTANCE: .*pip install 'modq\[pdq\]'"):
        load_settings(bank_pdq_distance=31)
    assert load_settings(bank_pdq_distance=0).bank_pdq_distance == 0  # exact matching needs nothing more


@pytest.mark.parametrize("value, message", [(-1, "greater than or equal to 0"), (129, "less than or equal to 128")])
def test_pdq_distance_out_of_range_is_refused(value, message):
    from config.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match=f"MODQ_BANK_PDQ_DISTANCE: .*{message}"):
        load_settings(bank_pdq_distance=value)


def test_the_offline_model_declares_its_version_before_any_call():
    """So a new NudeNet release stops reuse at once, not after its first new-content call."""
    from moderation.items import pay_once
    from moderation.providers.local import MODEL_VERSION, LocalProvider

    assert pay_once._model_version(instrumented.InstrumentedProvider(LocalProvider())) == MODEL_VERSION


def statements(rt) -> list[str]:
    """Every SQL statement the runtime's database runs from now on (the engine's own event: no mock)."""
    seen: list[str] = []
    engine = session_factory(rt.settings.database_url).kw["bind"]
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_with_dedupe_off_and_no_active_bank_entry_nothing_is_looked_up(make_settings, media_root, provider):
    rt = runtime(make_settings, provider, dedupe=False)
    entry = bank(rt, "approved")
    with transaction(rt.settings.database_url) as s:
        banks.remove(s, entry, "tester")
    seen = statements(rt)
    assert moderate(rt, media_root, "a.jpg").verdict == "rejected"
    assert len(provider.calls) == 1
    lookups = [sql for sql in seen if sql.lstrip().upper().startswith("SELECT") and
               ("FROM analyses" in sql or "FROM bank_entries" in sql.split("EXISTS", 1)[0])]
    assert lookups == []  # the bank's emptiness came with the item's own locking read


def test_with_dedupe_off_an_active_bank_entry_still_decides(make_settings, media_root, provider):
    rt = runtime(make_settings, provider, dedupe=False)
    moderate(rt, media_root, "a.jpg")  # nothing banked yet: the provider is called
    bank(rt, "approved", note="reviewed: a film still")
    assert moderate(rt, media_root, "b.jpg").verdict == "approved"
    assert len(provider.calls) == 1
