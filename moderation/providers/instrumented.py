"""Every provider call counted, timed and priced, right around the provider.

``instrument`` wraps the raw provider (images, and the video API) once, where
the runtime builds it. Each call in ``OPERATIONS`` moves the metrics
(``moderation.infra.metrics``) and is noted for the item's cost record
(``usage.recording``) when there is one.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

from moderation.infra import metrics
from moderation.providers import usage

#: Which provider methods are calls worth counting, and the operation name they report.
OPERATIONS: dict[str, str] = {
    "analyze_image": "DetectModerationLabels",
    "analyze_pil": "DetectModerationLabels",  # one video frame on the offline provider
    "start": "StartContentModeration",  # RekognitionVideo
    "results": "GetContentModeration",  # RekognitionVideo: one poll (all its pages)
}


def price_table(settings) -> dict[tuple[str, str], float]:
    """USD per successful call, by (provider, operation). The offline model costs nothing per call."""
    return {("rekognition", "DetectModerationLabels"): float(settings.price_per_image)}


@contextmanager
def observe_call(provider: str, operation: str, price: float = 0.0) -> Iterator[None]:
    """Count one provider call, its latency and (if it succeeded) its price; note it for the item's
    cost record (``usage.recording``) when there is one.

    For code that calls a provider API outside ``InstrumentedProvider``, e.g.
    the video jobs: ``with instrumented.observe_call("rekognition", "StartContentModeration"): ...``
    """
    start = time.perf_counter()
    error: BaseException | None = None
    try:
        yield
    except BaseException as exc:
        error = exc
        raise
    finally:
        outcome = metrics.outcome_of(error)
        metrics.PROVIDER_CALLS.labels(provider, operation, outcome).inc()
        usage.note_call(provider, operation, outcome)  # the per-item record behind `modq stats`
        metrics.PROVIDER_LATENCY.labels(provider, operation).observe(time.perf_counter() - start)
        if outcome == "ok" and price:
            metrics.ESTIMATED_COST.labels(provider, operation).inc(price)


class InstrumentedProvider:
    """A provider seen through metrics: every call in ``OPERATIONS`` is counted and timed.

    Everything else (``name``, ``reads_s3_directly``, video methods, ...) is the
    wrapped provider's own. Wrap the raw provider (innermost), so that latency
    is the provider's and not, say, time spent waiting for a rate limiter.
    """

    def __init__(self, inner: Any, prices: Mapping[tuple[str, str], float] | None = None):
        self._inner = inner
        self._prices = dict(prices or {})
        self.name = inner.name

    @property
    def inner(self) -> Any:
        return self._inner

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._inner, attr)
        operation = OPERATIONS.get(attr)
        if operation is None or not callable(value):
            return value
        provider, price = self.name, self._prices.get((self.name, operation), 0.0)

        def call(*args: Any, **kwargs: Any) -> Any:
            with observe_call(provider, operation, price):
                return value(*args, **kwargs)

        call.__name__ = attr
        return call

    def __repr__(self) -> str:
        return f"InstrumentedProvider({self._inner!r})"


def instrument(provider: Any, settings) -> InstrumentedProvider:
    if isinstance(provider, InstrumentedProvider):
        return provider
    return InstrumentedProvider(provider, price_table(settings))
