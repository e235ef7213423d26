"""Fault-tolerance settings: defaults and the errors a bad value gives."""

from __future__ import annotations

import pytest

from config.settings import load_settings
from tests.settings_cases import assert_refused


def test_defaults():
    s = load_settings()
    assert (s.rekognition_tps, s.rekognition_burst, s.rate_limit_max_wait_seconds) == (50.0, 1.0, 10.0)
    assert (s.reaper_stuck_after_seconds, s.reaper_interval_seconds, s.broker_visibility_timeout) == (900.0, 60.0, 3600)
    assert (s.circuit_failures, s.circuit_failure_ratio, s.circuit_open_seconds) == (5, 0.5, 30.0)
    assert s.redis_url is None and s.broker_key_prefix == "" and s.processing_lease_seconds == 120.0


@pytest.mark.parametrize("env, message", [
    ({"MODQ_REKOGNITION_TPS": "0"}, "MODQ_REKOGNITION_TPS: Input should be greater than 0"),
    ({"MODQ_REKOGNITION_BURST": "0.5"}, "MODQ_REKOGNITION_BURST: Input should be greater than or equal to 1"),
    ({"MODQ_REKOGNITION_OPERATION_TPS": "GetContentModeration=fast"},
     "MODQ_REKOGNITION_OPERATION_TPS: Value error, expected Operation=tps[,Operation=tps...] with tps > 0, "
     "got 'GetContentModeration=fast'"),
    ({"MODQ_CIRCUIT_FAILURE_RATIO": "1.5"}, "MODQ_CIRCUIT_FAILURE_RATIO: Input should be less than or equal to 1"),
    ({"MODQ_BROKER_KEY_PREFIX": "my prefix"}, "MODQ_BROKER_KEY_PREFIX: String should match pattern"),
    ({"MODQ_REAPER_STUCK_AFTER_SECONDS": "60", "MODQ_RETRY_BACKOFF_MAX": "600"},
     "MODQ_REAPER_STUCK_AFTER_SECONDS must be greater than MODQ_RETRY_BACKOFF_MAX"),
    ({"MODQ_BROKER_VISIBILITY_TIMEOUT": "300", "MODQ_RETRY_BACKOFF_MAX": "600"},
     "MODQ_BROKER_VISIBILITY_TIMEOUT must be greater than MODQ_RETRY_BACKOFF_MAX"),
    ({"MODQ_REAPER_INTERVAL_SECONDS": "0"}, "MODQ_REAPER_INTERVAL_SECONDS: Input should be greater than 0"),
])
def test_bad_values_are_named(monkeypatch, env, message):
    assert_refused(monkeypatch, env, message)
