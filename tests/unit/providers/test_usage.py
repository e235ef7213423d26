"""Cost accounting: every provider call is recorded per item; `modq stats` adds it up and prices it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from moderation.items.banks import services as banks
from moderation.providers import instrumented
from moderation.items import services as service
from moderation.video import services as video
from moderation.cli.main import app
from moderation.infra.db import transaction
from moderation.providers.models import ProviderCall
from tests.conftest import jpeg_bytes
from tests.fakes.providers import FakeProvider
from tests.media_factory import RED, segments, video_bytes
from tests.unit.providers.test_rekognition_video import detection, page
from tests.video_fixtures import advance_later, expect_start, ort, slots, stub, submit_s3, vrt, clock  # noqa: F401

runner = CliRunner()


def rows(rt) -> list[tuple]:
    with transaction(rt.settings.database_url) as s:
        return sorted(s.execute(select(ProviderCall.provider, ProviderCall.operation, ProviderCall.outcome,
                                       ProviderCall.media_type, ProviderCall.calls, ProviderCall.video_seconds)).all())


def stats_json(cli_env, *args) -> dict:
    result = runner.invoke(app, ["stats", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_images_made_reused_and_banked_are_counted_and_priced(cli_env, media_root, make_settings):
    cli_env.settings = make_settings(price_per_image=0.001)
    provider = FakeProvider(name="rekognition")
    cli_env._provider = instrumented.instrument(provider, cli_env.settings)
    pictures = {name: jpeg_bytes(color=color) for name, color in
                [("a.jpg", (10, 20, 30)), ("b.jpg", (200, 20, 30)), ("banked.jpg", (10, 200, 30))]}
    pictures["a-again.jpg"] = pictures["a.jpg"]
    with transaction(cli_env.settings.database_url) as s:
        import hashlib

        banks.add(s, hashlib.sha256(pictures["banked.jpg"]).hexdigest(), "rejected", source="t", added_by="t")
    for name, data in pictures.items():
        (media_root / name).write_bytes(data)
        service.process_image(service.submit(name, rt=cli_env).item_id, rt=cli_env)
    assert len(provider.calls) == 2
    assert rows(cli_env) == [("rekognition", "DetectModerationLabels", "banked", "image", 1, 0.0),
                             ("rekognition", "DetectModerationLabels", "ok", "image", 1, 0.0),
                             ("rekognition", "DetectModerationLabels", "ok", "image", 1, 0.0),
                             ("rekognition", "DetectModerationLabels", "reused", "image", 1, 0.0)]
    report = stats_json(cli_env, "--since", "1d")
    assert report["calls"] == {"made": {"rekognition DetectModerationLabels ok": 2},
                               "avoided": {"reused": 1, "banked": 1}}
    assert report["cost"]["images"] == 2 and report["cost"]["estimated_usd"] == pytest.approx(0.002)
    assert report["cost"]["saved_usd"] == pytest.approx(0.002)
    assert report["recent"]["outcomes"] == {"approved": 3, "rejected": 1}  # items by verdict


def test_rekognition_video_records_start_polls_and_minutes(vrt, stub, slots, cli_env, make_settings):
    vrt._video = instrumented.instrument(vrt._video, vrt.settings)
    item_id = submit_s3(vrt)
    expect_start(stub, item_id)
    video.start(item_id, rt=vrt)
    stub.add_response("get_content_moderation", {"JobStatus": "IN_PROGRESS", "JobId": "job-1"})
    stub.add_response("get_content_moderation", page([detection(2000, "Explicit", 55.0)]))
    advance_later(vrt, item_id)
    assert advance_later(vrt, item_id) == "flagged"
    assert rows(vrt) == [("rekognition", "GetContentModeration", "ok", "video", 1, 0.0),
                         ("rekognition", "GetContentModeration", "ok", "video", 1, 0.0),
                         ("rekognition", "StartContentModeration", "ok", "video", 0, 60.0),
                         ("rekognition", "StartContentModeration", "ok", "video", 1, 0.0)]
    cli_env.settings = vrt.settings
    report = stats_json(cli_env, "--since", "2h")
    assert report["cost"]["video_minutes"] == 1.0
    assert report["cost"]["estimated_usd"] == pytest.approx(vrt.settings.price_per_video_minute)


def test_offline_video_records_its_frames_and_minutes(ort, media_root):
    ort._provider = instrumented.instrument(ort._provider, ort.settings)
    (media_root / "clip.mp4").write_bytes(video_bytes(seconds=4, scene=segments((1, 2, RED))))
    item_id = service.submit("clip.mp4", rt=ort).item_id
    assert video.start(item_id, rt=ort) == "rejected"
    assert rows(ort) == [("local", "AnalyzeVideo", "ok", "video", 0, 4.0),
                         ("local", "DetectModerationLabels", "ok", "video", 4, 0.0)]


def test_stats_since_refuses_a_bad_span(cli_env):
    result = runner.invoke(app, ["stats", "--since", "forever"])
    assert result.exit_code == 2 and "use a number and a unit" in result.output


def test_stats_shows_calls_and_cost_in_the_terminal(cli_env):
    result = runner.invoke(app, ["stats", "--since", "7d"])
    assert result.exit_code == 0, result.output
    for line in ("Provider calls", "avoided: same content (dedupe)", "Media analysed and estimated cost",
                 "estimated cost", "saved by dedupe and banks"):
        assert line in result.stdout
