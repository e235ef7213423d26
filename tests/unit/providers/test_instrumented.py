"""providers.instrumented: every provider call counted, timed and priced, right around the provider."""

from __future__ import annotations

import pytest

from moderation.bootstrap import build_provider
from moderation.domain.errors import BadInput
from moderation.infra.media.imaging import PreparedImage
from moderation.providers import instrumented
from tests.fakes.providers import FakeProvider
from tests.metric_samples import Snapshot, value


def test_instrumented_provider_counts_calls_latency_and_cost(make_settings):
    inner = FakeProvider(name="rekognition", reads_s3_directly=True)
    inner.errors["bad"] = BadInput("no")
    provider = instrumented.instrument(inner, make_settings(price_per_image=0.0015))
    assert instrumented.instrument(provider, make_settings()) is provider  # never wrapped twice
    assert provider.name == "rekognition" and provider.reads_s3_directly is True
    assert not hasattr(provider, "analyze_pil")  # absent on the inner provider: absent here too
    ok = dict(provider="rekognition", operation="DetectModerationLabels", outcome="ok")
    bad = dict(ok, outcome="bad_input")
    lat = dict(provider="rekognition", operation="DetectModerationLabels")
    cost = dict(provider="rekognition", operation="DetectModerationLabels")
    snap = Snapshot(("modq_provider_calls_total", ok), ("modq_provider_calls_total", bad),
                    ("modq_provider_latency_seconds_count", lat), ("modq_estimated_cost_usd_total", cost))

    for _ in range(3):
        provider.analyze_image(PreparedImage(data=b"x", sha256="good"), 50)
    with pytest.raises(BadInput):
        provider.analyze_image(PreparedImage(data=b"x", sha256="bad"), 50)

    assert snap.delta("modq_provider_calls_total", **ok) == 3
    assert snap.delta("modq_provider_calls_total", **bad) == 1
    assert snap.delta("modq_provider_latency_seconds_count", **lat) == 4
    assert snap.delta("modq_estimated_cost_usd_total", **cost) == pytest.approx(3 * 0.0015)
    assert len(inner.calls) == 4


def test_local_provider_is_free(make_settings):
    provider = instrumented.instrument(FakeProvider(name="local"), make_settings())
    before = value("modq_estimated_cost_usd_total", provider="local", operation="DetectModerationLabels")
    provider.analyze_image(PreparedImage(data=b"x", sha256="k"), 50)
    assert value("modq_estimated_cost_usd_total", provider="local", operation="DetectModerationLabels") == before


def test_build_provider_is_instrumented(make_settings):
    provider = build_provider(make_settings(provider="rekognition"))
    assert isinstance(provider, instrumented.InstrumentedProvider) and provider.name == "rekognition"
    assert provider.reads_s3_directly
