"""Video use cases on SQLite: Rekognition through botocore's Stubber, slots on fakeredis,
the offline path on clips PyAV makes here, an in-memory dispatcher and publisher."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import boto3
import pytest
from sqlalchemy import select

from moderation.alerts import services as alerts
from moderation.items import services as service
from moderation.video import services as video
from moderation.domain.errors import Deferred, TransientFault
from moderation.items import models as m
from moderation.alerts.models import Alert
from moderation.video import models as vm
from moderation.infra.db import transaction
from tests.conftest import jpeg_bytes
from tests.media_factory import RED, segments, truncated, video_bytes
from tests.unit.providers.test_rekognition_video import IN_PROGRESS, JOB, detection, page
from tests.video_fixtures import (  # noqa: F401 (fixtures)
    BUCKET, advance_later, clock, count, expect_start, item, job, ort, polls, slots, stub, submit_s3, vrt)

# --- submit ---------------------------------------------------------------------


def test_video_is_recognised_by_content_and_sent_to_the_video_task(rt, media_root):
    (media_root / "upload.bin").write_bytes(video_bytes(seconds=1))  # no telling extension
    (media_root / "really-a-photo.mp4").write_bytes(jpeg_bytes())
    vid = service.submit("upload.bin", rt=rt)
    img = service.submit("really-a-photo.mp4", rt=rt)
    assert rt.dispatcher.sent == [(vid.item_id, "video"), (img.item_id, "image")]
    assert item(rt, vid.item_id).media_type == "video"


# --- Rekognition path -------------------------------------------------------------


def test_job_in_progress_twice_then_succeeded_over_three_pages(vrt, stub, slots):
    item_id = submit_s3(vrt)
    expect_start(stub, item_id)
    assert video.start(item_id, rt=vrt) == "submitted"
    row = item(vrt, item_id)
    assert (row.status, row.job_id, row.provider) == ("submitted", JOB, "rekognition")
    assert slots.holders() == [item_id]

    stub.add_response("get_content_moderation", IN_PROGRESS)
    stub.add_response("get_content_moderation", IN_PROGRESS)
    stub.add_response("get_content_moderation", page([detection(2000, "Explicit", 55.0)], "p2"))
    stub.add_response("get_content_moderation", page([detection(3000, "Exposed Female Genitalia", 97.0,
                                                                "Explicit Nudity", 3)], "p3"))
    stub.add_response("get_content_moderation", page([detection(3000, "Explicit Nudity", 97.0, "Explicit", 2),
                                                      detection(9000, "Explicit", 97.0)]))
    assert advance_later(vrt, item_id) == "submitted"
    assert advance_later(vrt, item_id) == "submitted"
    assert advance_later(vrt, item_id) == "rejected"

    assert len(polls(vrt)) == 3  # the one after start, and one after each IN_PROGRESS
    assert job(vrt, item_id).polls == 3 and job(vrt, item_id).state == "succeeded"
    assert slots.holders() == []  # given back at the end
    assert count(vrt, vm.VideoDetection, item_id=item_id) == 4
    with transaction(vrt.settings.database_url) as s:
        summary = {r.label: r for r in s.scalars(select(vm.VideoLabelSummary))}
        decision = s.scalar(select(m.Decision))
        analysis = s.get(m.Analysis, decision.analysis_id)
    explicit = summary["Explicit"]
    assert (explicit.max_confidence, explicit.first_ms, explicit.last_ms, explicit.detections) == (97.0, 2000, 9000, 2)
    (reason,) = decision.reasons
    assert reason["label"] == "Exposed Female Genitalia" and reason["first_ms"] == 3000
    assert reason["text"].endswith("at 0:03.000")
    assert analysis.raw["Pages"] == 3 and analysis.raw["JobId"] == JOB
    assert analysis.content_key == f"s3:{BUCKET}/in/clip.mp4@"


def test_alert_names_top_labels_with_their_first_timestamps(vrt, stub):
    item_id = submit_s3(vrt)
    expect_start(stub, item_id)
    video.start(item_id, rt=vrt)
    stub.add_response("get_content_moderation", page([
        detection(1500, "Weapons", 85.0, "Violence", 2), detection(61_000, "Nazi Party", 95.0, "Hate Symbols", 2)]))
    assert advance_later(vrt, item_id) == "rejected"
    assert alerts.flush_outbox(vrt.settings.database_url, vrt.publisher) == 1
    (sent,) = vrt.publisher.sent
    assert sent["message"]["top_labels"] == [
        {"name": "Nazi Party", "confidence": 95.0, "first_timestamp_ms": 61_000, "first_timestamp": "1:01.000"},
        {"name": "Weapons", "confidence": 85.0, "first_timestamp_ms": 1500, "first_timestamp": "0:01.500"},
    ]
    assert sent["subject"].startswith("modq rejected video: Nazi Party (95%) at 1:01.000")
    assert sent["attributes"]["media_type"] == "video"


def test_failed_job_fails_the_item_with_its_status_message(vrt, stub, slots):
    item_id = submit_s3(vrt)
    expect_start(stub, item_id)
    video.start(item_id, rt=vrt)
    stub.add_response("get_content_moderation", {"JobStatus": "FAILED", "JobId": JOB,
                                                 "StatusMessage": "Unsupported codec"})
    assert advance_later(vrt, item_id) == "failed"
    assert item(vrt, item_id).failure_reason == f"Rekognition job {JOB} FAILED: Unsupported codec"
    assert job(vrt, item_id).state == "failed" and slots.holders() == []
    assert count(vrt, m.Decision) == 0 and count(vrt, Alert) == 0


def test_limit_exceeded_on_start_waits_and_tries_again(vrt, stub, slots):
    item_id = submit_s3(vrt)
    stub.add_client_error("start_content_moderation", "LimitExceededException", "20 jobs")
    with pytest.raises(Deferred, match="waiting for a video job slot") as info:  # the task re-sends itself
        video.start(item_id, rt=vrt)
    assert 15 <= info.value.retry_after <= 45  # MODQ_VIDEO_START_RETRY_SECONDS 30, +-50% jitter
    assert item(vrt, item_id).status == "processing"  # not failed
    assert slots.holders() == []  # AWS refused: the slot goes back

    expect_start(stub, item_id)  # same token: still the first (and only) job
    assert video.start(item_id, rt=vrt) == "submitted"


def test_all_slots_taken_defers_without_calling_aws(vrt, slots):
    slots.acquire("other-1"), slots.acquire("other-2")
    item_id = submit_s3(vrt)
    before = item(vrt, item_id).updated_at
    with pytest.raises(Deferred, match="all 2 are taken"):
        video.start(item_id, rt=vrt)
    row = item(vrt, item_id)
    assert row.status == "queued" and row.attempts == 0
    assert row.updated_at > before  # the reaper sees an item waiting its turn, not a lost one


def test_retried_start_reuses_the_token_and_one_slot(vrt, stub, slots):
    item_id = submit_s3(vrt)
    stub.add_client_error("start_content_moderation", "ThrottlingException", "slow down")
    with pytest.raises(TransientFault):  # the task retries it
        video.start(item_id, rt=vrt)
    assert slots.holders() == [item_id]  # kept for the retry
    expect_start(stub, item_id)  # expected_params: the same ClientRequestToken
    assert video.start(item_id, rt=vrt) == "submitted"
    # a duplicate delivery now makes no call (the Stubber would fail) and starts no second poll chain
    assert video.start(item_id, rt=vrt) == "submitted"
    assert len(polls(vrt)) == 1 and slots.holders() == [item_id]


def test_invalid_pagination_token_still_decides_once(vrt, stub):
    item_id = submit_s3(vrt)
    expect_start(stub, item_id)
    video.start(item_id, rt=vrt)
    stub.add_response("get_content_moderation", page([detection(0, "Explicit", 60.0)], "old"))
    stub.add_client_error("get_content_moderation", "InvalidPaginationTokenException", "expired")
    stub.add_response("get_content_moderation", page([detection(0, "Explicit", 60.0)], "new"))
    stub.add_response("get_content_moderation", page([detection(4000, "Explicit", 62.0)]))
    assert advance_later(vrt, item_id) == "flagged"
    assert count(vrt, vm.VideoDetection) == 2 and count(vrt, m.Decision) == 1


def test_a_job_past_its_deadline_fails_clearly(vrt, stub, slots):
    item_id = submit_s3(vrt)
    expect_start(stub, item_id)
    video.start(item_id, rt=vrt)
    with transaction(vrt.settings.database_url) as s:
        row = s.get(vm.VideoJob, item_id)
        row.deadline_at = row.started_at - timedelta(seconds=1)
    assert advance_later(vrt, item_id) == "failed"
    assert "still IN_PROGRESS after 21,600 s (MODQ_VIDEO_POLL_DEADLINE_SECONDS)" in item(vrt, item_id).failure_reason
    assert slots.holders() == []


def test_advance_on_a_finished_or_unstarted_item_does_nothing(vrt, stub):
    item_id = submit_s3(vrt)
    assert advance_later(vrt, item_id) == "queued"
    assert advance_later(vrt, "no-such-item") == "missing"
    expect_start(stub, item_id)
    video.start(item_id, rt=vrt)
    stub.add_response("get_content_moderation", page([]))
    assert advance_later(vrt, item_id) == "approved"
    assert advance_later(vrt, item_id) == "approved"  # a late poll: no call, no second decision
    assert count(vrt, m.Decision) == 1


def test_giving_up_releases_the_slot(vrt, stub, slots):
    item_id = submit_s3(vrt)
    expect_start(stub, item_id)
    video.start(item_id, rt=vrt)
    assert video.fail(item_id, "gave up after 5 attempts: throttled", rt=vrt) == "failed"
    assert slots.holders() == [] and job(vrt, item_id).status_message.startswith("gave up")


def test_redriven_item_gets_a_new_token(vrt, stub):
    item_id = submit_s3(vrt)
    expect_start(stub, item_id)
    video.start(item_id, rt=vrt)
    video.fail(item_id, "operator cancelled", rt=vrt)
    with transaction(vrt.settings.database_url) as s:  # what a re-drive does
        s.get(m.Item, item_id).status = "queued"
    expect_start(stub, item_id, job_id="f" * 32, token=f"{item_id}-2")
    assert video.start(item_id, rt=vrt) == "submitted" and job(vrt, item_id).generation == 2


def test_duplicate_polls_do_not_multiply_poll_chains(vrt, stub, clock):
    item_id = submit_s3(vrt)
    expect_start(stub, item_id)
    video.start(item_id, rt=vrt)
    stub.add_response("get_content_moderation", IN_PROGRESS)
    assert advance_later(vrt, item_id, 5) == "submitted"
    # a second delivery of the same poll, a moment later: no Get call (the Stubber has none queued), no new chain
    assert advance_later(vrt, item_id, 1) == "submitted"
    assert len(polls(vrt)) == 2 and job(vrt, item_id).polls == 1


def test_a_resent_start_revives_a_lost_poll_chain(vrt, stub, clock):
    item_id = submit_s3(vrt)
    expect_start(stub, item_id)
    video.start(item_id, rt=vrt)
    vrt.dispatcher.scheduled.clear()  # the broker lost the poll
    clock.tick(3600)
    stub.add_response("get_content_moderation", IN_PROGRESS)
    assert video.start(item_id, rt=vrt) == "submitted"  # what a reaper re-sending the item does
    assert polls(vrt) == [("poll_video", item_id, 300)]  # polled now, and the chain goes on


def test_a_completion_notice_skips_the_wait(vrt, stub, clock):
    item_id = submit_s3(vrt)
    expect_start(stub, item_id)
    video.start(item_id, rt=vrt)
    with transaction(vrt.settings.database_url) as s:  # what video_completions.drain records
        s.get(vm.VideoJob, item_id).notified_at = clock()
    stub.add_response("get_content_moderation", page([]))
    assert advance_later(vrt, item_id, 0.1) == "approved"


@pytest.mark.parametrize("seconds, remaining, expected", [(0, 999, 5), (8, 999, 5), (30, 999, 15),
                                                          (900, 9999, 300), (900, 12, 12)])
def test_poll_countdown_grows_with_the_job_and_stops_at_the_deadline(seconds, remaining, expected):
    settings = SimpleNamespace(video_poll_initial_seconds=5, video_poll_max_interval_seconds=300)
    assert video.next_poll_in(settings, seconds, remaining) == expected


# --- local files with Rekognition -----------------------------------------------------


def test_local_file_without_staging_bucket_fails_saying_so(vrt, media_root, slots):
    (media_root / "clip.mp4").write_bytes(video_bytes(seconds=1))
    item_id = service.submit("clip.mp4", rt=vrt).item_id
    assert video.start(item_id, rt=vrt) == "failed"
    assert "MODQ_VIDEO_STAGING_BUCKET is not set" in item(vrt, item_id).failure_reason
    assert slots.holders() == []


def test_local_file_is_staged_in_s3_and_removed_after(vrt, stub, media_root, make_settings, monkeypatch):
    moto = pytest.importorskip("moto")
    from moderation.infra import aws

    aws.reset_clients()
    with moto.mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="modq-staging")
        vrt.settings = make_settings(provider="rekognition", video_staging_bucket="modq-staging")
        (media_root / "clip.mp4").write_bytes(video_bytes(seconds=1))
        item_id = service.submit("clip.mp4", rt=vrt).item_id
        key = f"modq-staging/{item_id}/1.mp4"
        stub.add_response("start_content_moderation", {"JobId": JOB}, expected_params={
            "Video": {"S3Object": {"Bucket": "modq-staging", "Name": key}}, "MinConfidence": 50.0,
            "ClientRequestToken": item_id, "JobTag": item_id})
        assert video.start(item_id, rt=vrt) == "submitted"
        assert s3.head_object(Bucket="modq-staging", Key=key)["ContentLength"] > 0
        stub.add_response("get_content_moderation", page([]))
        assert advance_later(vrt, item_id) == "approved"
        assert s3.list_objects_v2(Bucket="modq-staging").get("KeyCount") == 0
    aws.reset_clients()


def test_local_file_that_rekognition_cannot_read_fails_before_upload(vrt, media_root, make_settings, slots):
    vrt.settings = make_settings(provider="rekognition", video_staging_bucket="modq-staging")
    (media_root / "old.mp4").write_bytes(video_bytes(seconds=1, codec="mpeg4"))
    item_id = service.submit("old.mp4", rt=vrt).item_id
    assert video.start(item_id, rt=vrt) == "failed"  # no S3 call was made: there is no S3 here
    assert "H.264 video only and this one is mpeg4" in item(vrt, item_id).failure_reason
    assert slots.holders() == []


# --- offline path ---------------------------------------------------------------------


def test_offline_video_is_judged_on_sampled_frames(ort, media_root):
    data = video_bytes(seconds=6, scene=segments((2, 4, RED)))
    (media_root / "clip.mp4").write_bytes(data)
    item_id = service.submit("clip.mp4", external_id="post-7", rt=ort).item_id
    assert ort.dispatcher.sent == [(item_id, "video")]
    assert video.start(item_id, rt=ort) == "rejected"
    row = item(ort, item_id)
    assert row.provider == "local" and len(row.content_key) == 64  # sha256 of the file
    with transaction(ort.settings.database_url) as s:
        (reason,) = s.scalar(select(m.Decision)).reasons
        times = sorted({d.timestamp_ms for d in s.scalars(select(vm.VideoDetection))})
        meta = s.get(vm.VideoJob, item_id).video_metadata
    assert reason["first_ms"] == 2000 and reason["timestamps_ms"] == [2000, 3000]
    assert times == [2000, 3000] and meta["FramesAnalysed"] == 6 and meta["SampleFps"] == 1.0
    assert video.start(item_id, rt=ort) == "rejected"  # a duplicate delivery: nothing more
    assert count(ort, m.Decision) == 1 and count(ort, Alert) == 1


def test_offline_truncated_video_fails_with_the_reason(ort, media_root):
    (media_root / "cut.mp4").write_bytes(truncated(video_bytes(seconds=6, faststart=True)))
    item_id = service.submit("cut.mp4", rt=ort).item_id
    assert video.start(item_id, rt=ort) == "failed"
    assert "truncated" in item(ort, item_id).failure_reason and count(ort, m.Decision) == 0


def test_offline_size_limit(ort, media_root, make_settings):
    ort.settings = make_settings(video_max_bytes=1000)
    (media_root / "clip.mp4").write_bytes(video_bytes(seconds=3))
    item_id = service.submit("clip.mp4", rt=ort).item_id
    assert video.start(item_id, rt=ort) == "failed"
    assert "over the limit of 1,000 (MODQ_VIDEO_MAX_BYTES)" in item(ort, item_id).failure_reason
    assert ort.provider.frames == []


def test_offline_video_is_leased_so_a_duplicate_waits_instead_of_decoding_again(ort, media_root):
    from moderation.infra.lease import LeaseBusy

    (media_root / "clip.mp4").write_bytes(video_bytes(seconds=2))
    item_id = service.submit("clip.mp4", rt=ort).item_id
    ort.leases.acquire(item_id, "task-1", 600)  # the first delivery is decoding it
    with pytest.raises(LeaseBusy, match=f"another delivery is processing item {item_id}"):
        video.start(item_id, rt=ort, owner="task-2")  # the reaper's re-send
    assert item(ort, item_id).status == "queued" and ort._provider.frames == []
    assert video.start(item_id, rt=ort, owner="task-1") == "approved"  # a redelivery of the first takes over
    assert ort.leases.acquire(item_id, "task-2", 600) == 0  # and gives the lease back when done


def test_a_banked_offline_video_is_decided_without_decoding(ort, media_root):
    import hashlib

    from moderation.items.banks import services as banks

    data = video_bytes(seconds=2)
    (media_root / "known.mp4").write_bytes(data)
    with transaction(ort.settings.database_url) as s:
        entry, _ = banks.add(s, hashlib.sha256(data).hexdigest(), "rejected", note="known-bad clip",
                             source="test", added_by="t")
        entry_id = entry.id
    item_id = service.submit("known.mp4", rt=ort).item_id
    assert video.start(item_id, rt=ort) == "rejected"
    assert ort._provider.frames == []  # not one frame decoded
    row = item(ort, item_id)
    assert row.attempts == 1 and row.analysis_id is None
    with transaction(ort.settings.database_url) as s:
        assert s.scalar(select(m.Decision.reasons))[0]["bank_entry"] == entry_id


def test_a_banked_s3_video_starts_no_rekognition_job(vrt, stub, slots):
    from moderation.items.banks import services as banks

    with transaction(vrt.settings.database_url) as s:
        banks.add(s, f"s3:{BUCKET}/in/clip.mp4@", "approved", note="our own trailer", source="test", added_by="t")
    item_id = submit_s3(vrt)
    assert video.start(item_id, rt=vrt) == "approved"  # the Stubber has no response queued: no call was made
    assert slots.holders() == [] and polls(vrt) == []
    row = item(vrt, item_id)
    assert (row.provider, row.attempts, row.job_id) == ("rekognition", 1, None)


# --- the attempt budget (moderation/items/attempts.py) ----------------------------------------


def set_attempts(rt, item_id: str, n: int) -> None:
    """What ``n`` deliveries whose worker was killed leave behind: charged, never ended."""
    with transaction(rt.settings.database_url) as s:
        row = s.get(m.Item, item_id)
        row.status, row.attempts = m.PROCESSING, n


def test_waiting_for_a_job_slot_uses_no_attempt(vrt, stub, slots):
    item_id = submit_s3(vrt)
    for _ in range(vrt.settings.max_attempts + 1):
        stub.add_client_error("start_content_moderation", "LimitExceededException", "20 jobs")
        with pytest.raises(Deferred):
            video.start(item_id, rt=vrt)
        assert item(vrt, item_id).attempts == 0
    expect_start(stub, item_id)
    assert video.start(item_id, rt=vrt) == "submitted" and item(vrt, item_id).attempts == 1


def test_polls_that_find_the_job_running_use_no_attempt(vrt, stub):
    item_id = submit_s3(vrt)
    expect_start(stub, item_id)
    video.start(item_id, rt=vrt)
    for _ in range(vrt.settings.max_attempts + 1):
        stub.add_response("get_content_moderation", IN_PROGRESS)
        assert advance_later(vrt, item_id, 600) == "submitted"
    stub.add_response("get_content_moderation", page([]))
    assert advance_later(vrt, item_id, 600) == "approved"
    assert item(vrt, item_id).attempts == 1  # the start's


def test_failing_polls_use_attempts_and_the_last_fails_the_video(vrt, stub, slots):
    item_id = submit_s3(vrt)
    expect_start(stub, item_id)
    video.start(item_id, rt=vrt)  # attempt 1
    for n in range(2, vrt.settings.max_attempts):
        stub.add_client_error("get_content_moderation", "InternalServerError", "oops", http_status_code=500)
        with pytest.raises(TransientFault):  # Celery retries the poll
            advance_later(vrt, item_id, 600)
        assert item(vrt, item_id).attempts == n
    stub.add_client_error("get_content_moderation", "InternalServerError", "oops", http_status_code=500)
    assert advance_later(vrt, item_id, 600) == "failed"
    row = item(vrt, item_id)
    assert row.failure_reason == ("gave up after 5 attempts: Rekognition still failing after retries "
                                  "(GetContentModeration InternalServerError: oops)")
    assert job(vrt, item_id).state == "failed" and slots.holders() == []


def test_a_video_start_after_every_attempt_died_fails_with_an_operator_alert(vrt, stub, slots):
    item_id = submit_s3(vrt)
    set_attempts(vrt, item_id, vrt.settings.max_attempts)
    assert video.start(item_id, rt=vrt) == "failed"  # no job is started: the Stubber has none queued
    died = "gave up after 5 attempts; the worker died while processing it (killed, possibly out of memory)"
    assert item(vrt, item_id).failure_reason == died
    with transaction(vrt.settings.database_url) as s:
        assert [(a.kind, a.message["reason"]) for a in s.scalars(select(Alert))] == [("worker_lost", died)]
    assert slots.holders() == []


def test_an_offline_video_whose_decoder_kept_dying_is_not_decoded_again(ort, media_root):
    (media_root / "clip.mp4").write_bytes(video_bytes(seconds=2))
    item_id = service.submit("clip.mp4", rt=ort).item_id
    set_attempts(ort, item_id, ort.settings.max_attempts)
    assert video.start(item_id, rt=ort) == "failed"
    assert ort._provider.frames == [] and "the worker died while processing it" in item(ort, item_id).failure_reason
    assert count(ort, Alert, kind="worker_lost") == 1


def test_a_poll_after_every_attempt_died_fails_the_video(vrt, stub, slots):
    item_id = submit_s3(vrt)
    expect_start(stub, item_id)
    video.start(item_id, rt=vrt)
    with transaction(vrt.settings.database_url) as s:  # polls that died recording a huge result
        s.get(m.Item, item_id).attempts = vrt.settings.max_attempts
    assert advance_later(vrt, item_id, 600) == "failed"  # no Get call: the Stubber has none queued
    assert "the worker died while processing it" in item(vrt, item_id).failure_reason
    assert job(vrt, item_id).state == "failed" and slots.holders() == []


def test_a_resent_start_of_a_running_job_is_settled_as_a_poll(vrt, stub, clock):
    item_id = submit_s3(vrt)
    expect_start(stub, item_id)
    video.start(item_id, rt=vrt)
    for _ in range(vrt.settings.max_attempts + 1):  # the reaper re-sends the start of a job whose polls were lost
        clock.tick(600)
        stub.add_response("get_content_moderation", IN_PROGRESS)
        assert video.start(item_id, rt=vrt) == "submitted"
    assert item(vrt, item_id).attempts == 1
    clock.tick(600)
    stub.add_client_error("get_content_moderation", "InternalServerError", "oops", http_status_code=500)
    with pytest.raises(TransientFault):
        video.start(item_id, rt=vrt)
    assert item(vrt, item_id).attempts == 2  # charged once, not by the poll and again by the start
