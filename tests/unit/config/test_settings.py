import pytest

from config.settings import load_settings
from tests.settings_cases import assert_refused


@pytest.mark.parametrize(
    "env, message",
    [
        ({"MODQ_PROVIDER": "azure"}, "MODQ_PROVIDER"),
        ({"MODQ_MAX_ATTEMPTS": "0"}, "MODQ_MAX_ATTEMPTS"),
        ({"MODQ_MAX_ATTEMPTS": "many"}, "MODQ_MAX_ATTEMPTS"),
        ({"MODQ_SNS_TOPIC_ARN": "my-topic"}, "MODQ_SNS_TOPIC_ARN: Value error, not an SNS topic ARN"),
        ({"MODQ_THRESHOLDS": "/nonexistent/t.yaml"}, "MODQ_THRESHOLDS: Value error, no such file"),
        ({"MODQ_LOG_FORMAT": "xml"}, "MODQ_LOG_FORMAT"),
    ],
)
def test_bad_variable_is_named(monkeypatch, env, message):
    assert_refused(monkeypatch, env, message)


def test_defaults_are_the_embedded_setup(monkeypatch):
    settings = load_settings()
    assert settings.provider == "local" and settings.database_url.startswith("sqlite:")
    assert settings.sns_topic_arn is None and settings.s3_bucket_allowlist is None


def test_fifo_topic_and_bucket_allow_list(monkeypatch):
    monkeypatch.setenv("MODQ_SNS_TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:alerts.fifo")
    monkeypatch.setenv("MODQ_S3_BUCKETS", "a-bucket, b-bucket")
    settings = load_settings()
    assert settings.sns_is_fifo and settings.s3_bucket_allowlist == frozenset({"a-bucket", "b-bucket"})


@pytest.mark.parametrize(
    "env, message",
    [
        ({"MODQ_VIDEO_SNS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:AmazonRekognitionDone"},
         "MODQ_VIDEO_SNS_TOPIC_ARN and MODQ_VIDEO_ROLE_ARN go together"),
        ({"MODQ_VIDEO_SNS_TOPIC_ARN": "arn:aws-cn:sns:cn-north-1:123456789012:t", "MODQ_VIDEO_ROLE_ARN": "x"},
         "MODQ_VIDEO_SNS_TOPIC_ARN: Value error, not an SNS topic ARN Rekognition accepts"),
        ({"MODQ_VIDEO_ROLE_ARN": "my-role"}, "MODQ_VIDEO_ROLE_ARN: Value error, not an IAM role ARN"),
        ({"MODQ_VIDEO_MAX_CONCURRENT_JOBS": "0"}, "MODQ_VIDEO_MAX_CONCURRENT_JOBS"),
        ({"MODQ_VIDEO_SAMPLING": "fast"}, "MODQ_VIDEO_SAMPLING"),
        ({"MODQ_VIDEO_POLL_INITIAL_SECONDS": "60", "MODQ_VIDEO_POLL_MAX_INTERVAL_SECONDS": "30"},
         "MODQ_VIDEO_POLL_INITIAL_SECONDS is above"),
        ({"MODQ_VIDEO_POLL_MAX_INTERVAL_SECONDS": "1000"}, "must be below MODQ_BROKER_VISIBILITY_TIMEOUT"),
    ],
)
def test_bad_video_settings_are_named(monkeypatch, env, message):
    assert_refused(monkeypatch, env, message)


def test_video_defaults(monkeypatch):
    s = load_settings()
    assert (s.video_max_concurrent_jobs, s.video_sample_fps, s.video_sampling) == (20, 1.0, "auto")
    assert s.video_completion_queue_url is None and s.video_staging_bucket is None
    assert s.video_slot_lease_seconds == 900  # 3 x the longest poll interval: a dead worker's slot frees itself
