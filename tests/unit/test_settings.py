import pytest

from config.settings import load_settings
from moderation.errors import ConfigError


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
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert message in str(info.value)


def test_defaults_are_the_embedded_setup(monkeypatch):
    settings = load_settings()
    assert settings.provider == "local" and settings.database_url.startswith("sqlite:")
    assert settings.sns_topic_arn is None and settings.s3_bucket_allowlist is None


def test_fifo_topic_and_bucket_allow_list(monkeypatch):
    monkeypatch.setenv("MODQ_SNS_TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:alerts.fifo")
    monkeypatch.setenv("MODQ_S3_BUCKETS", "a-bucket, b-bucket")
    settings = load_settings()
    assert settings.sns_is_fifo and settings.s3_bucket_allowlist == frozenset({"a-bucket", "b-bucket"})
