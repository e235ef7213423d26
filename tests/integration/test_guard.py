"""ClientGuard on a real botocore client against the fake Rekognition endpoint.

Every HTTP attempt (botocore's own retries included) takes a token; the
breaker hears once per call; its refusals stop the call before anything is
sent. The limiter and breaker here are recording fakes; their Redis versions
have their own tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import boto3
import pytest
from botocore.config import Config

from moderation.infra import aws
from moderation.infra.circuit import CircuitOpen
from moderation.domain.errors import Throttled, TransientFault
from moderation.infra.media.imaging import from_s3
from moderation.providers.guard import ClientGuard
from moderation.providers.rekognition import RekognitionProvider

pytestmark = pytest.mark.integration


@dataclass
class FakeLimiter:
    taken: list[str] = field(default_factory=list)
    refuse: bool = False

    def acquire(self, operation: str) -> float:
        if self.refuse:
            raise Throttled("over the limit (fake)", retry_after=1.0)
        self.taken.append(operation)
        return 0.0


@dataclass
class FakeBreaker:
    state: str = "closed"  # closed | probe | open
    records: list[tuple[bool, bool]] = field(default_factory=list)

    def allow(self) -> bool:
        if self.state == "open":
            raise CircuitOpen("open (fake)", retry_after=1.0)
        return self.state == "probe"

    def record(self, ok: bool, probe: bool = False) -> str:
        self.records.append((ok, probe))
        return "counted"


@pytest.fixture
def guarded(rekognition):
    client = boto3.client("rekognition", region_name="us-east-1", endpoint_url=rekognition.endpoint_url,
                          config=Config(retries={"mode": "standard", "total_max_attempts": 3}))
    limiter, breaker = FakeLimiter(), FakeBreaker()
    ClientGuard(limiter, breaker).install(client)
    rekognition.add_s3_object("bkt", "a.jpg", labels=[])
    return RekognitionProvider(client=client), limiter, breaker, rekognition


def analyze(provider):
    return provider.analyze_image(from_s3("bkt", "a.jpg"), 50)


def test_each_call_takes_a_token_and_counts_as_answered(guarded):
    provider, limiter, breaker, fake = guarded
    analyze(provider)
    analyze(provider)
    assert limiter.taken == ["DetectModerationLabels"] * 2
    assert breaker.records == [(True, False), (True, False)]


def test_botocore_retries_take_tokens_too_and_throttling_is_not_a_failure(guarded):
    provider, limiter, breaker, fake = guarded
    fake.throttle_ratio = 1.0
    with pytest.raises(Throttled):
        analyze(provider)
    assert fake.calls["DetectModerationLabels"] == 3 and len(limiter.taken) == 3  # one token per attempt
    assert breaker.records == []


def test_a_final_server_error_is_one_failure_per_call(guarded):
    provider, limiter, breaker, fake = guarded
    fake.server_error_ratio = 1.0
    with pytest.raises(TransientFault, match="InternalServerError"):
        analyze(provider)
    assert fake.calls["DetectModerationLabels"] == 3 and breaker.records == [(False, False)]


def test_bad_input_is_an_answer(guarded):
    provider, limiter, breaker, fake = guarded
    fake.add_s3_object("bkt", "a.jpg", error="InvalidImageFormatException")
    with pytest.raises(Exception, match="JPEG or PNG"):
        analyze(provider)
    assert breaker.records == [(True, False)]


def test_open_circuit_sends_nothing(guarded):
    provider, limiter, breaker, fake = guarded
    breaker.state = "open"
    with pytest.raises(CircuitOpen):
        analyze(provider)
    assert fake.calls["DetectModerationLabels"] == 0 and limiter.taken == [] and breaker.records == []


def test_limiter_refusal_sends_nothing(guarded):
    provider, limiter, breaker, fake = guarded
    limiter.refuse = True
    with pytest.raises(Throttled, match="over the limit"):
        analyze(provider)
    assert fake.calls["DetectModerationLabels"] == 0 and breaker.records == []


def test_the_probe_outcome_is_reported_as_the_probe(guarded):
    provider, limiter, breaker, fake = guarded
    breaker.state = "probe"
    analyze(provider)
    assert breaker.records == [(True, True)]


def test_no_answer_at_all_is_a_failure(rekognition):
    client = boto3.client("rekognition", region_name="us-east-1", endpoint_url="http://127.0.0.1:1",
                          config=Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=0.5))
    breaker = FakeBreaker()
    ClientGuard(FakeLimiter(), breaker).install(client)
    with pytest.raises(TransientFault, match="unreachable"):
        RekognitionProvider(client=client).analyze_image(from_s3("bkt", "a.jpg"), 50)
    assert breaker.records == [(False, False)]


def test_every_rekognition_client_the_process_builds_is_guarded(rekognition, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_REKOGNITION", rekognition.endpoint_url)
    limiter = FakeLimiter()
    aws.reset_clients()
    try:
        aws.on_new_client("rekognition", "guard", ClientGuard(limiter, FakeBreaker()).install)
        rekognition.add_s3_object("bkt", "a.jpg", labels=[])
        RekognitionProvider(max_attempts=1).analyze_image(from_s3("bkt", "a.jpg"), 50)  # builds its client lazily
        assert limiter.taken == ["DetectModerationLabels"]
    finally:
        aws.on_new_client("rekognition", "guard", lambda client: client)
        aws.reset_clients()
