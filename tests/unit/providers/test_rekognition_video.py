"""RekognitionVideo against a real boto3 client in botocore's Stubber.

Stubber checks requests and stubbed responses against botocore's Rekognition
model, so the shapes below are ones AWS could send. It never retries, so each
queued error is seen exactly once.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from moderation.domain.errors import BadInput, DeploymentFault, TransientFault
from moderation.infra.media.imaging import S3Object
from moderation.providers.rekognition_video import JobLimitExceeded, RekognitionVideo

JOB = "6f3a0f3c2b9d4c1e8a7b5d4c3b2a1f0e"
ITEM = "5b0e4c7a-1111-4222-8333-444455556666"
VIDEO = S3Object("ugc-videos", "in/clip.mp4")
TOPIC = "arn:aws:sns:us-east-1:123456789012:AmazonRekognitionModq"
ROLE = "arn:aws:iam::123456789012:role/modq-rekognition-sns"
METADATA = {"Codec": "h264", "DurationMillis": 60_000, "Format": "QuickTime / MOV", "FrameRate": 29.97,
            "FrameHeight": 720, "FrameWidth": 1280, "ColorRange": "LIMITED"}


def detection(ts: int, name: str, confidence: float, parent: str = "", level: int = 1) -> dict:
    return {"Timestamp": ts, "ModerationLabel": {"Name": name, "ParentName": parent, "TaxonomyLevel": level,
                                                 "Confidence": confidence}, "ContentTypes": []}


def get_params(next_token: str | None = None) -> dict:
    params = {"JobId": JOB, "MaxResults": 1000, "SortBy": "TIMESTAMP"}
    return {**params, "NextToken": next_token} if next_token else params


def page(items: list[dict], next_token: str | None = None, status: str = "SUCCEEDED") -> dict:
    body = {"JobStatus": status, "JobId": JOB, "VideoMetadata": METADATA, "ModerationLabels": items,
            "ModerationModelVersion": "7.0", "JobTag": ITEM,
            "Video": {"S3Object": {"Bucket": VIDEO.bucket, "Name": VIDEO.key}},
            "GetRequestMetadata": {"SortBy": "TIMESTAMP", "AggregateBy": "TIMESTAMPS"}}
    return {**body, "NextToken": next_token} if next_token else body


IN_PROGRESS = {"JobStatus": "IN_PROGRESS", "JobId": JOB, "JobTag": ITEM}


@pytest.fixture
def client():
    return boto3.client("rekognition", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


@pytest.fixture
def stub(client):
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def video(client):
    return RekognitionVideo(client=client)


def start_params(**extra) -> dict:
    return {"Video": {"S3Object": {"Bucket": "ugc-videos", "Name": "in/clip.mp4"}}, "MinConfidence": 50.0,
            "ClientRequestToken": ITEM, "JobTag": ITEM, **extra}


# --- StartContentModeration ---------------------------------------------------


def test_start_sends_policy_confidence_token_tag_and_channel(video, stub):
    stub.add_response("start_content_moderation", {"JobId": JOB}, expected_params=start_params(
        NotificationChannel={"SNSTopicArn": TOPIC, "RoleArn": ROLE}))
    assert video.start(VIDEO, 50.0, ITEM, ITEM, (TOPIC, ROLE)) == JOB


def test_start_without_channel_and_with_an_object_version(video, stub):
    params = start_params()
    params["Video"]["S3Object"]["Version"] = "v3"
    stub.add_response("start_content_moderation", {"JobId": JOB}, expected_params=params)
    assert video.start(S3Object("ugc-videos", "in/clip.mp4", "v3"), 50.0, ITEM, ITEM) == JOB


def test_duplicate_start_with_the_same_token_returns_the_same_job(video, stub):
    for _ in range(2):  # AWS answers a repeated token with the first job's id
        stub.add_response("start_content_moderation", {"JobId": JOB}, expected_params=start_params())
    assert video.start(VIDEO, 50.0, ITEM, ITEM) == video.start(VIDEO, 50.0, ITEM, ITEM) == JOB


def test_limit_exceeded_is_not_a_failure(video, stub):
    stub.add_client_error("start_content_moderation", "LimitExceededException", "20 jobs in progress")
    with pytest.raises(JobLimitExceeded, match="too many video jobs"):
        video.start(VIDEO, 50.0, ITEM, ITEM)


@pytest.mark.parametrize("code, error, text", [
    ("VideoTooLargeException", BadInput, "10 GB, 6 hours"),
    ("InvalidS3ObjectException", BadInput, "cannot read the S3 video"),
    ("InvalidParameterException", BadInput, "rejected a parameter"),
    ("IdempotentParameterMismatchException", BadInput, "other parameters"),
    ("AccessDeniedException", DeploymentFault, "StartContentModeration"),
    ("ThrottlingException", TransientFault, "still failing"),
    ("ProvisionedThroughputExceededException", TransientFault, "still failing"),
])
def test_start_errors_are_classified(video, stub, code, error, text):
    stub.add_client_error("start_content_moderation", code, "from the service",
                          http_status_code=500 if code == "InternalServerError" else 400)
    with pytest.raises(error, match=text) as info:
        video.start(VIDEO, 50.0, ITEM, ITEM)
    assert code in str(info.value)


def test_start_checks_what_botocore_does_not(video):
    with pytest.raises(BadInput, match="outside 0-100"):
        video.start(VIDEO, 150.0, ITEM, ITEM)
    with pytest.raises(ValueError, match="ClientRequestToken"):
        video.start(VIDEO, 50.0, "x" * 65, ITEM)
    with pytest.raises(ValueError, match="JobTag"):
        video.start(VIDEO, 50.0, ITEM, "has spaces")


# --- GetContentModeration -----------------------------------------------------


def test_in_progress_twice_then_succeeded_over_three_pages(video, stub):
    stub.add_response("get_content_moderation", IN_PROGRESS, expected_params=get_params())
    stub.add_response("get_content_moderation", IN_PROGRESS, expected_params=get_params())
    stub.add_response("get_content_moderation", page([detection(0, "Explicit", 90.0)], "t1"),
                      expected_params=get_params())
    stub.add_response("get_content_moderation", page([detection(1000, "Weapons", 70.0, "Violence", 2)], "t2"),
                      expected_params=get_params("t1"))
    stub.add_response("get_content_moderation", page([detection(2000, "Explicit", 95.0)]),
                      expected_params=get_params("t2"))

    assert video.results(JOB).status == "IN_PROGRESS"
    assert video.results(JOB).status == "IN_PROGRESS"
    result = video.results(JOB)

    assert result.status == "SUCCEEDED" and result.pages == 3 and result.model_version == "7.0"
    assert [d["Timestamp"] for d in result.detections] == [0, 1000, 2000]
    assert result.video_metadata["DurationMillis"] == 60_000


def test_failed_job_carries_its_status_message(video, stub):
    stub.add_response("get_content_moderation", {"JobStatus": "FAILED", "JobId": JOB,
                                                 "StatusMessage": "Unsupported codec: hevc"})
    result = video.results(JOB)
    assert (result.status, result.status_message, result.detections) == ("FAILED", "Unsupported codec: hevc", [])


def test_invalid_pagination_token_reads_again_from_the_first_page(video, stub):
    stub.add_response("get_content_moderation", page([detection(0, "Explicit", 90.0)], "stale"),
                      expected_params=get_params())
    stub.add_client_error("get_content_moderation", "InvalidPaginationTokenException", "token expired",
                          expected_params=get_params("stale"))
    stub.add_response("get_content_moderation", page([detection(0, "Explicit", 90.0)], "fresh"),
                      expected_params=get_params())
    stub.add_response("get_content_moderation", page([detection(5000, "Explicit", 60.0)]),
                      expected_params=get_params("fresh"))

    result = video.results(JOB)

    assert [d["Timestamp"] for d in result.detections] == [0, 5000]  # no page counted twice
    assert result.pages == 2


def test_a_token_refused_twice_is_transient_not_an_endless_loop(video, stub):
    for _ in range(2):
        stub.add_response("get_content_moderation", page([], "bad"), expected_params=get_params())
        stub.add_client_error("get_content_moderation", "InvalidPaginationTokenException", "no",
                              expected_params=get_params("bad"))
    with pytest.raises(TransientFault, match="kept refusing its own NextToken"):
        video.results(JOB)


def test_unknown_job_is_bad_input(video, stub):
    stub.add_client_error("get_content_moderation", "ResourceNotFoundException", "no such job")
    with pytest.raises(BadInput, match=f"no job {JOB}"):
        video.results(JOB)


def test_get_throttled_is_transient(video, stub):
    stub.add_client_error("get_content_moderation", "ThrottlingException", "slow down")
    with pytest.raises(TransientFault):
        video.results(JOB)


def test_unknown_job_status_is_not_trusted(video, stub):
    stub.add_response("get_content_moderation", {"JobStatus": "DONE", "JobId": JOB})  # Stubber skips enums
    with pytest.raises(TransientFault, match="JobStatus 'DONE'"):
        video.results(JOB)
