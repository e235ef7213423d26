"""Animated and multi-page images are judged on every distinct frame a viewer sees, not the first.

The fake provider judges a frame by its colour (red: explicit, green: nudity
to flag, anything else clean), decoded from what it was sent, so each test
knows which frame reached it. On the code before frame handling, frame 0 was
all the provider saw and every one of these animations was approved.
"""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from moderation.providers import instrumented
from moderation.domain import policy
from moderation.items import services as service
from moderation.infra.lease import LocalLeases
from moderation.domain.policy import decide, severity
from moderation.providers.local import LocalProvider
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.items import models as m
from moderation.infra.db import transaction
from moderation.providers.models import ProviderCall
from tests.animated_media import BLUE, GREEN, GREY, RED, YELLOW, animated, many_frame_gif
from tests.conftest import SAMPLES
from tests.fakes.providers import RecordingPublisher, color_labels

FORMATS = ["gif", "png", "webp", "tiff"]


@pytest.fixture
def provider(fake_provider):
    fake_provider.by_color = True
    return fake_provider


def moderate(rt, media_root, name: str, data: bytes) -> m.Item:
    (media_root / name).write_bytes(data)
    item_id = service.submit(name, rt=rt).item_id
    service.process_image(item_id, rt=rt)
    with transaction(rt.settings.database_url) as s:
        item = s.get(m.Item, item_id)
        s.expunge(item)
        return item


def decision_and_evidence(rt, item: m.Item) -> tuple[list[dict], dict]:
    with transaction(rt.settings.database_url) as s:
        decision = s.scalar(select(m.Decision).where(m.Decision.item_id == item.id))
        return decision.reasons, s.get(m.Analysis, item.analysis_id).raw


def count(rt, model) -> int:
    with transaction(rt.settings.database_url) as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("fmt, where", [
    ("gif", "in frame 1 at 0:00.050"), ("png", "in frame 1 at 0:00.050"), ("webp", "in frame 1 at 0:00.050"),
    ("tiff", "on page 1"),
])
def test_an_explicit_second_frame_behind_a_clean_first_one_is_rejected(rt, media_root, provider, fmt, where):
    item = moderate(rt, media_root, f"coffee.{fmt}", animated(fmt, [BLUE, RED], [50, 10_000]))
    assert item.status == "rejected"
    reasons, raw = decision_and_evidence(rt, item)
    fired = reasons[0]
    assert fired["text"] == f"Exposed Female Genitalia 95.0% >= reject 60 (rule: Explicit) {where}"
    assert (fired["frame_index"], fired["offset_ms"], fired["frames"]) == (1, None if fmt == "tiff" else 50, [1])
    assert [(f["Index"], f["Source"], bool(f["ModerationLabels"])) for f in raw["Frames"]] == [
        (0, "called", False), (1, "called", True)]
    assert (raw["Format"], raw["FrameCount"], raw["DistinctFrames"]) == (fmt, 2, 2)
    assert len(provider.calls) == 2 and all(key.startswith("frame:") for key, _ in provider.calls)
    assert item.content_key == hashlib.sha256((media_root / f"coffee.{fmt}").read_bytes()).hexdigest()


def test_identical_frames_are_analysed_once(rt, media_root, provider):
    item = moderate(rt, media_root, "loop.gif", animated("gif", [BLUE, GREEN, BLUE, GREEN, BLUE], 100))
    assert item.status == "flagged" and len(provider.calls) == 2
    reasons, raw = decision_and_evidence(rt, item)
    assert reasons[0]["text"].endswith("in frame 1 at 0:00.100") and reasons[0]["frames"] == [1]
    assert [f["Appearances"] for f in raw["Frames"]] == [[0, 2, 4], [1, 3]]
    assert reasons[-1]["text"] == ("2 of 2 distinct frames analysed (5 frames in the gif): 2 provider calls, "
                                   "0 reused, 0 from the hash bank")


@pytest.mark.parametrize("colors, verdict", [
    ([BLUE, GREY, YELLOW], "approved"),
    ([BLUE, GREEN, GREY], "flagged"),
    ([GREEN, BLUE, RED], "rejected"),
    ([RED, GREEN], "rejected"),
    ([GREEN, RED, GREEN], "rejected"),
])
def test_the_verdict_is_the_most_severe_frames(rt, media_root, provider, colors, verdict):
    local = rt.policy.for_provider("local")
    per_frame = max((decide(color_labels_of(c), local).verdict for c in colors), key=severity)
    item = moderate(rt, media_root, "mixed.webp", animated("webp", colors, 200))
    assert item.status == verdict == per_frame


def color_labels_of(color) -> list:
    return color_labels(Image.new("RGB", (10, 10), color))


def test_every_rule_that_fired_names_its_first_frame(rt, media_root, provider):
    item = moderate(rt, media_root, "both.gif", animated("gif", [BLUE, GREEN, BLUE, RED], [1000, 200, 300, 400]))
    reasons, _ = decision_and_evidence(rt, item)
    fired = [(r["label"], r["frame_index"], r["offset_ms"]) for r in reasons if r.get("action") in ("flag", "reject")]
    assert fired == [("Exposed Female Genitalia", 3, 1500), ("Exposed Male Nipple", 1, 1000)]


def test_past_the_cap_the_first_and_longest_frames_are_among_those_analysed(rt, media_root, provider, make_settings):
    rt.settings = make_settings(animation_max_frames=4)
    colors = [(40 + i * 9, 40, 200) for i in range(12)]  # twelve distinct clean blues...
    colors[7] = RED  # ...and the explicit one shown for 10 s
    durations = [100] * 12
    durations[7] = 10_000
    item = moderate(rt, media_root, "long.gif", animated("gif", colors, durations))
    assert item.status == "rejected" and len(provider.calls) == 4
    reasons, raw = decision_and_evidence(rt, item)
    assert raw["Frames"][0]["Index"] == 0 and 7 in [f["Index"] for f in raw["Frames"]]
    assert reasons[-1]["text"].startswith("4 of 12 distinct frames analysed (12 frames in the gif): 4 provider calls")


def test_ten_thousand_frames_fail_naming_the_limit_before_any_provider_call(rt, media_root, provider):
    item = moderate(rt, media_root, "bomb.gif", many_frame_gif(10_000))
    assert item.status == "failed"
    assert item.failure_reason == "animated gif has more than 1,000 frames, the limit (MODQ_ANIMATION_MAX_FRAME_COUNT)"
    assert provider.calls == [] and count(rt, m.Decision) == 0 and count(rt, m.Analysis) == 0


def test_too_many_pixels_fail_naming_the_limit_before_any_provider_call(rt, media_root, provider, make_settings):
    rt.settings = make_settings(animation_max_total_pixels=1_000_000)
    item = moderate(rt, media_root, "big.png", animated("png", [BLUE, RED] * 10, size=(300, 200)))
    assert item.failure_reason == ("animated png has 1,200,000 pixels over its 20 frames, over the limit of "
                                   "1,000,000 (MODQ_ANIMATION_MAX_TOTAL_PIXELS)")
    assert provider.calls == [] and count(rt, m.Analysis) == 0


def test_a_still_image_takes_the_still_path_with_one_call_on_its_file_hash(rt, media_root, provider):
    data = animated("png", [RED])  # a one-frame APNG is a still PNG
    item = moderate(rt, media_root, "still.png", data)
    assert item.status == "rejected"
    assert provider.calls == [(hashlib.sha256(data).hexdigest(), rt.policy.for_provider("local").min_confidence)]


def test_the_offline_model_analyses_every_frame(make_settings, media_root):
    """The real offline provider: no explicit picture ships with the repository, so this proves each frame
    reaches the model and its stored labels are the model's own for that frame."""
    settings = make_settings()
    rt = Runtime(settings, policy.load(settings.thresholds), InMemoryDispatcher(), RecordingPublisher())
    rt._provider, rt._leases = instrumented.instrument(LocalProvider(), settings), LocalLeases()
    photos = [Image.open(SAMPLES / name).convert("RGB").resize((320, 240)) for name in ("coffee.jpg", "astronaut.jpg")]
    out = io.BytesIO()
    photos[0].save(out, "WEBP", save_all=True, append_images=photos[1:], duration=[50, 10_000], loop=0, lossless=True)
    item = moderate(rt, media_root, "photos.webp", out.getvalue())
    assert item.status in ("approved", "flagged", "rejected")
    _, raw = decision_and_evidence(rt, item)
    model = LocalProvider()
    minimum = rt.policy.for_provider("local").min_confidence
    expected = [[lab.to_dict() for lab in model.analyze_pil(photo, minimum).labels] for photo in photos]
    assert [f["ModerationLabels"] for f in raw["Frames"]] == expected
    with transaction(settings.database_url) as s:
        rows = s.execute(select(ProviderCall.provider, ProviderCall.media_type, ProviderCall.calls)).all()
    assert rows == [("local", "animation", 2)]


def test_re_evaluation_under_a_new_policy_keeps_naming_the_frame(rt, media_root, provider):
    from moderation.policy.reevaluate import reevaluate

    item = moderate(rt, media_root, "flagged.gif", animated("gif", [BLUE, GREEN], [100, 2_000]))
    assert item.status == "flagged"
    strict = policy.parse("min_confidence: 50\ndefault: {flag: 80}\nlabels:\n  Exposed Male Nipple: {reject: 50}\n")
    assert reevaluate(rt, strict, "ann").rejected == 1
    reasons, _ = decision_and_evidence(rt, item)
    assert reasons[0]["text"] == ("Exposed Male Nipple 55.0% >= reject 50 (rule: Exposed Male Nipple) "
                                  "in frame 1 at 0:00.100")
    assert (reasons[0]["frame_index"], reasons[0]["offset_ms"]) == (1, 100)


def test_a_retry_after_a_failed_frame_does_not_pay_again_for_the_frames_before_it(rt, media_root, provider):
    from moderation.infra.media import frames
    from moderation.items.animation import frame_key
    from moderation.domain.errors import TransientFault

    data = animated("webp", [BLUE, GREY, RED], [100, 100, 2_000])
    limits = frames.Limits.of(rt.settings)
    blue, grey, red = (frame_key(f.digest) for f in frames.scan(frames.probe(data, limits), limits))
    provider.errors[red] = TransientFault("Rekognition still failing after retries (InternalServerError)")
    (media_root / "retry.webp").write_bytes(data)
    item_id = service.submit("retry.webp", rt=rt).item_id
    with pytest.raises(TransientFault):
        service.process_image(item_id, rt=rt)
    del provider.errors[red]
    assert service.process_image(item_id, rt=rt) == "rejected"
    assert [key for key, _ in provider.calls] == [blue, grey, red, red]  # blue and grey were paid for once


def test_a_frame_in_the_hash_bank_is_decided_without_a_call(rt, media_root, provider):
    from moderation.items.banks import services as banks
    from moderation.infra.media import frames
    from moderation.items.animation import frame_key

    data = animated("gif", [BLUE, YELLOW], [100, 3_000])
    limits = frames.Limits.of(rt.settings)
    blue, yellow = (frame_key(f.digest) for f in frames.scan(frames.probe(data, limits), limits))
    with transaction(rt.settings.database_url) as s:
        entry, _ = banks.add(s, yellow, "rejected", note="known bad sticker", source="t", added_by="t")
        entry_id = entry.id
    item = moderate(rt, media_root, "sticker.gif", data)
    assert item.status == "rejected" and [key for key, _ in provider.calls] == [blue]
    reasons, raw = decision_and_evidence(rt, item)
    assert reasons[0]["text"] == (f"hash bank entry #{entry_id} (rejected, same content): known bad sticker "
                                  f"in frame 1 at 0:00.100")
    assert [(f["Source"], f["BankEntry"]) for f in raw["Frames"]] == [("called", None), ("banked", entry_id)]


def test_a_banked_animation_file_is_decided_with_no_call(rt, media_root, provider):
    from moderation.items.banks import services as banks

    data = animated("gif", [BLUE, RED])
    with transaction(rt.settings.database_url) as s:
        banks.add(s, hashlib.sha256(data).hexdigest(), "rejected", source="t", added_by="t")
    item = moderate(rt, media_root, "known.gif", data)
    assert item.status == "rejected" and provider.calls == []
