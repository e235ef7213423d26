"""`modq demo`'s cases: the media of each phase, the bank entry, and how an outcome is attributed."""

from __future__ import annotations

import hashlib

import pytest

from moderation.items.banks import services as banks
from moderation.cli import demo_cases as cases


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_recorded_phase_replays_copies_of_samples_through_the_recorded_provider(make_settings, media_root):
    recorded, offline = cases.prepare(make_settings())
    assert recorded.worker_env == {"MODQ_PROVIDER": "recorded", "MODQ_RECORDED_ANSWERS": str(cases.ANSWERS)}
    assert offline.worker_env == {"MODQ_PROVIDER": "local"}
    assert "not AWS" in recorded.name
    assert recorded.files and all(f.parent == media_root / cases.REPLAYED for f in recorded.files)
    for f in recorded.files:  # byte for byte: the answers are keyed by the sample's sha256
        assert sha(f) == sha(cases.SAMPLES / f.name)


def test_the_offline_phase_has_the_photos_a_broken_file_and_a_banked_reupload(make_settings, media_root):
    settings = make_settings()
    _, offline = cases.prepare(settings)
    names = [f.name for f in offline.files]
    assert names[-2:] == [cases.BROKEN, cases.REUPLOAD] and "chelsea.jpg" in names
    assert cases.KNOWN_BAD not in names  # banked, never submitted itself
    reupload = media_root / cases.REUPLOAD
    assert sha(reupload) == sha(media_root / cases.KNOWN_BAD)
    [entry] = banks.listing(settings.database_url)
    assert (entry["content_key"], entry["verdict"], entry["note"]) == (sha(reupload), "rejected", cases.BANK_NOTE)


def test_preparing_twice_keeps_one_bank_entry(make_settings):
    settings = make_settings()
    cases.prepare(settings)
    cases.prepare(settings)  # a second `make demo` on the same database
    assert len(banks.listing(settings.database_url)) == 1


def test_the_demo_copies_the_bundled_samples_and_one_broken_file(tmp_path):
    files = cases.prepare_media(tmp_path)
    assert len(files) > 1 and all(f.parent == tmp_path and f.is_file() for f in files)
    assert files[-1].name == cases.BROKEN


def view(status="approved", provider="local", reasons=(), failure=None) -> dict:
    return {"status": status, "provider": provider, "reasons": list(reasons), "failure_reason": failure}


@pytest.mark.parametrize("v, expected", [
    (view(reasons=["no moderation labels detected"]), "offline model (NudeNet)"),
    (view(reasons=["analysis #3 of item x reused (same content, no provider call)"]),
     "offline model (NudeNet) (earlier analysis reused)"),
    (view("flagged", "recorded", ["Weapons 74.2% >= flag 70 (rule: Violence)"]), "recorded answer, replayed (not AWS)"),
    (view("rejected", reasons=["hash bank entry #1 (rejected, same content): x"]), "hash bank (no model call)"),
    (view("failed", failure="not a supported image"), "media check (bad input)"),
    (view("failed", "recorded", failure="the recorded provider has no answer"), "recorded provider (no answer)"),
])
def test_what_decided_an_item_is_read_from_its_outcome(v, expected):
    assert cases.how_decided(v) == expected
