"""Prometheus metrics: what modq did, how long it took, what it cost, and what is waiting.

Two kinds of figures:

- Events, counted where they happen (``service``, the provider wrapper):
  ``modq_items_decided_total``, ``modq_provider_calls_total``,
  ``modq_provider_latency_seconds``, ``modq_submit_to_decision_seconds``,
  ``modq_estimated_cost_usd_total``.
- State, read from Redis and the database when Prometheus scrapes
  (``StateCollector``): ``modq_queue_depth``, ``modq_broker_unacked``,
  ``modq_outbox_backlog``, ``modq_outbox_oldest_age_seconds``,
  ``modq_video_jobs_in_flight``, ``modq_state_up``.

Prefork workers count in several processes. prometheus-client's multiprocess
mode handles that: each process writes its counters to mmap files in
``PROMETHEUS_MULTIPROC_DIR`` and the exporter (in the worker's parent process)
sums them. A worker started with ``MODQ_METRICS_PORT`` set and no
``PROMETHEUS_MULTIPROC_DIR`` gets a private temporary directory, removed when
the process that made it exits. ``worker/app.py`` imports this module as it loads, so
the directory exists before any pool process forks.

prometheus_client picks its value class (in-process or mmap) once, when it is
first imported. modq cannot always come first: the ``celery`` CLI imports its
plugins (Flower's among them) before it reads ``-A worker``, and Flower imports
prometheus_client. So this module, having chosen the directory, has
prometheus_client choose again (``_adopt_multiprocess_mode``).

Nothing here imports Celery; ``worker/app.py`` starts the exporter from a
Celery signal (``serve``), the API mounts ``render_latest`` at ``/metrics``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping

_MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _prepare_multiprocess_dir() -> str | None:
    """Choose the multiprocess directory before prometheus_client reads the environment."""
    if os.environ.get(_MULTIPROC_ENV) or os.environ.get(_MULTIPROC_ENV.lower()):
        return None  # the operator's choice (e.g. a tmpfs volume); they wipe it between runs
    if not os.environ.get("MODQ_METRICS_PORT"):
        return None  # nobody exports from this process tree: plain in-process metrics
    path = tempfile.mkdtemp(prefix="modq-metrics-")
    os.environ[_MULTIPROC_ENV] = path
    owner = os.getpid()

    def _remove() -> None:  # forked pool processes inherit atexit handlers; only the owner cleans up
        if os.getpid() == owner:
            shutil.rmtree(path, ignore_errors=True)

    atexit.register(_remove)
    return path


def _adopt_multiprocess_mode() -> None:
    """Switch an already imported prometheus_client to multiprocess mode once the directory is set.

    prometheus_client reads the environment once, at import (``values.ValueClass =
    get_value_class()``), and every metric, and every labelled child, looks
    ``values.ValueClass`` up when it is constructed. Re-running its own
    ``get_value_class()`` is therefore safe: metrics made before keep their
    in-process values (another library's, e.g. Flower's, which multiprocess
    exposition ignores); modq's, all made after this, write to the directory.
    """
    import sys

    values = sys.modules.get("prometheus_client.values")
    if values is None or getattr(values.ValueClass, "_multiprocess", False):
        return  # not imported yet (it will read the environment itself), or already multiprocess
    if os.environ.get(_MULTIPROC_ENV) or os.environ.get(_MULTIPROC_ENV.lower()):
        values.ValueClass = values.get_value_class()


_OWN_MULTIPROC_DIR = _prepare_multiprocess_dir()
_adopt_multiprocess_mode()

import structlog  # noqa: E402
from prometheus_client import (  # noqa: E402
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily  # noqa: E402

from moderation.domain.errors import BadInput, DeploymentFault, TransientFault  # noqa: E402
from moderation.providers import usage  # noqa: E402

log = structlog.get_logger("modq.metrics")

#: True when values are written to mmap files (prometheus-client multiprocess mode).
MULTIPROCESS: bool = bool(getattr(values.ValueClass, "_multiprocess", False))

# --- events -------------------------------------------------------------------

ITEMS_DECIDED = Counter(
    "modq_items_decided", "Items that reached a final automatic outcome: approved, flagged, rejected or failed.",
    ["verdict", "provider", "media_type"],
)
PROVIDER_CALLS = Counter(
    "modq_provider_calls", "Calls to a moderation provider, by operation and outcome "
    "(ok, bad_input, deployment_fault, throttled, transient, error).",
    ["provider", "operation", "outcome"],
)
PROVIDER_LATENCY = Histogram(
    "modq_provider_latency_seconds", "Duration of one provider call as the worker sees it (botocore retries included).",
    ["provider", "operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0),
)
SUBMIT_TO_DECISION = Histogram(
    "modq_submit_to_decision_seconds", "From the item's submission (created_at) to its automatic decision.",
    ["media_type", "provider"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0,
             21600.0),
)
ESTIMATED_COST = Counter(
    "modq_estimated_cost_usd", "Provider spend estimated from the price table (MODQ_PRICE_PER_*), in US dollars.",
    ["provider", "operation"],
)

#: Which provider methods are calls worth counting, and the operation name they report.
OPERATIONS: dict[str, str] = {
    "analyze_image": "DetectModerationLabels",
    "analyze_pil": "DetectModerationLabels",  # one video frame on the offline provider
    "start": "StartContentModeration",  # RekognitionVideo
    "results": "GetContentModeration",  # RekognitionVideo: one poll (all its pages)
}
_THROTTLE_MARKERS = ("Throttling", "ProvisionedThroughputExceeded", "LimitExceeded", "TooManyRequests")


def outcome_of(exc: BaseException | None) -> str:
    """The ``outcome`` label for a call that raised ``exc`` (None: it succeeded)."""
    if exc is None:
        return "ok"
    if isinstance(exc, BadInput):
        return "bad_input"
    if isinstance(exc, DeploymentFault):
        return "deployment_fault"
    if isinstance(exc, TransientFault):
        text = str(exc)
        return "throttled" if any(marker in text for marker in _THROTTLE_MARKERS) else "transient"
    return "error"


def price_table(settings) -> dict[tuple[str, str], float]:
    """USD per successful call, by (provider, operation). The offline model costs nothing per call."""
    return {("rekognition", "DetectModerationLabels"): float(settings.price_per_image)}


@contextmanager
def observe_call(provider: str, operation: str, price: float = 0.0) -> Iterator[None]:
    """Count one provider call, its latency and (if it succeeded) its price; note it for the item's
    cost record (``usage.recording``) when there is one.

    For code that calls a provider API outside ``InstrumentedProvider``, e.g.
    the video jobs: ``with metrics.observe_call("rekognition", "StartContentModeration"): ...``
    """
    start = time.perf_counter()
    error: BaseException | None = None
    try:
        yield
    except BaseException as exc:
        error = exc
        raise
    finally:
        outcome = outcome_of(error)
        PROVIDER_CALLS.labels(provider, operation, outcome).inc()
        usage.note_call(provider, operation, outcome)  # the per-item record behind `modq stats`
        PROVIDER_LATENCY.labels(provider, operation).observe(time.perf_counter() - start)
        if outcome == "ok" and price:
            ESTIMATED_COST.labels(provider, operation).inc(price)


def record_cost(provider: str, operation: str, usd: float) -> None:
    """Add spend that is not one price per call (e.g. video billed per minute)."""
    if usd > 0:
        ESTIMATED_COST.labels(provider, operation).inc(usd)


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


def item_decided(verdict: str, provider: str | None, media_type: str | None,
                 created_at: datetime | None = None, decided_at: datetime | None = None) -> None:
    """One item reached ``verdict`` (approved/flagged/rejected/failed) for the first time.

    Call it after the transaction that recorded the outcome committed, and only
    when that transaction made the change (a duplicate delivery must not count).
    The latency histogram takes automatic decisions only, not failures.
    """
    provider, media_type = provider or "none", media_type or "unknown"
    ITEMS_DECIDED.labels(verdict, provider, media_type).inc()
    if verdict != "failed" and created_at is not None:
        decided_at = decided_at or datetime.now(timezone.utc)
        seconds = (_aware(decided_at) - _aware(created_at)).total_seconds()
        SUBMIT_TO_DECISION.labels(media_type, provider).observe(max(0.0, seconds))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)  # SQLite drops the zone


# --- state, read on scrape ---------------------------------------------------

QUEUES = ("images", "videos", "alerts", "maintenance")
_KOMBU_PRIORITY_SEP = "\x06\x16"  # kombu's Redis transport: queue, queue\x06\x163, ...\x166, ...\x169
_KOMBU_PRIORITY_STEPS = (0, 3, 6, 9)


def queue_depths(broker_url: str, queues: tuple[str, ...] = QUEUES, timeout: float = 2.0,
                 prefix: str = "") -> tuple[dict[str, int], int]:
    """Messages waiting per queue (all priority lists) and messages delivered but not yet acked.

    ``prefix``: the broker's ``global_keyprefix`` (MODQ_BROKER_KEY_PREFIX).
    """
    import redis

    client = redis.Redis.from_url(broker_url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        with client.pipeline(transaction=False) as pipe:
            for queue in queues:
                for pri in _KOMBU_PRIORITY_STEPS:
                    pipe.llen(prefix + (queue if not pri else f"{queue}{_KOMBU_PRIORITY_SEP}{pri}"))
            pipe.hlen(prefix + "unacked")
            counts = pipe.execute()
    finally:
        client.close()
    steps = len(_KOMBU_PRIORITY_STEPS)
    depths = {q: int(sum(counts[i * steps:(i + 1) * steps])) for i, q in enumerate(queues)}
    return depths, int(counts[-1])


_engines: dict[str, Any] = {}
_engines_lock = threading.Lock()


def _state_engine(database_url: str):
    """An engine without a pool, for scrapes: no connection is held between scrapes or inherited by a fork."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    with _engines_lock:
        engine = _engines.get(database_url)
        if engine is None:
            url = make_url(database_url)
            args: dict[str, Any] = {}
            if url.get_backend_name() == "postgresql":
                if url.drivername == "postgresql":
                    url = url.set(drivername="postgresql+psycopg")
                args = {"connect_timeout": 2, "options": "-c statement_timeout=2000"}
            elif url.get_backend_name() == "sqlite":
                args = {"timeout": 2}
            engine = _engines[database_url] = create_engine(url, poolclass=NullPool, connect_args=args)
        return engine


def database_state(database_url: str) -> dict[str, float]:
    """Outbox backlog and its oldest row's age, and video jobs running at the provider."""
    from sqlalchemy import func, select

    from moderation.items import models as m

    with _state_engine(database_url).connect() as conn:
        backlog, oldest = conn.execute(
            select(func.count(), func.min(m.Alert.created_at)).where(m.Alert.published_at.is_(None))
        ).one()
        in_flight = conn.execute(
            select(func.count()).select_from(m.Item).where(m.Item.status == m.SUBMITTED)
        ).scalar_one()
    age = (datetime.now(timezone.utc) - _aware(oldest)).total_seconds() if oldest is not None else 0.0
    return {"outbox_backlog": int(backlog), "outbox_oldest_age_seconds": max(0.0, age),
            "video_jobs_in_flight": int(in_flight)}


class StateCollector:
    """Gauges computed on scrape from Redis (queues) and the database (outbox, video jobs)."""

    def __init__(self, database_url: str, broker_url: str, queues: tuple[str, ...] = QUEUES, prefix: str = ""):
        self.database_url, self.broker_url, self.queues, self.prefix = database_url, broker_url, queues, prefix

    def describe(self):  # no scrape at registration time
        return []

    def collect(self):
        up = GaugeMetricFamily("modq_state_up", "1 if the last scrape could read this source.", labels=["source"])
        try:
            depths, unacked = queue_depths(self.broker_url, self.queues, prefix=self.prefix)
        except Exception as exc:  # a scrape must answer even when Redis is down
            log.warning("metrics_state_failed", source="redis", error=str(exc))
            up.add_metric(["redis"], 0)
        else:
            up.add_metric(["redis"], 1)
            depth = GaugeMetricFamily("modq_queue_depth", "Messages waiting in the broker, by queue.", labels=["queue"])
            for queue, count in depths.items():
                depth.add_metric([queue], count)
            yield depth
            yield GaugeMetricFamily("modq_broker_unacked", "Messages delivered to workers and not yet acknowledged "
                                    "(running, prefetched or waiting for a retry countdown).", value=unacked)
        try:
            state = database_state(self.database_url)
        except Exception as exc:
            log.warning("metrics_state_failed", source="database", error=str(exc))
            up.add_metric(["database"], 0)
        else:
            up.add_metric(["database"], 1)
            yield GaugeMetricFamily("modq_outbox_backlog", "Alerts written and not yet published.",
                                    value=state["outbox_backlog"])
            yield GaugeMetricFamily("modq_outbox_oldest_age_seconds", "Age of the oldest unpublished alert (0: none).",
                                    value=state["outbox_oldest_age_seconds"])
            yield GaugeMetricFamily("modq_video_jobs_in_flight",
                                    "Video items whose provider job is running (status submitted).",
                                    value=state["video_jobs_in_flight"])
        yield up


# --- exposition ---------------------------------------------------------------


def registry(settings=None, state: bool = True) -> CollectorRegistry:
    """What to expose: this process's (or, in multiprocess mode, every process's) events, plus state."""
    if MULTIPROCESS:
        reg = CollectorRegistry()
        multiprocess.MultiProcessCollector(reg)
    else:
        reg = CollectorRegistry()
        reg.register(_DefaultRegistryView())
    if state and settings is not None:
        reg.register(StateCollector(settings.database_url, settings.broker_url,
                                    prefix=getattr(settings, "broker_key_prefix", "") or ""))
    return reg


class _DefaultRegistryView:
    """The process's default registry as one collector, so state can be added without touching it."""

    def collect(self):
        return REGISTRY.collect()


def render_latest(settings=None, state: bool = True) -> tuple[bytes, str]:
    """The text exposition (body, content type) for ``/metrics``."""
    return generate_latest(registry(settings, state)), CONTENT_TYPE_LATEST


_server_lock = threading.Lock()
_server: Any = None


def serve(settings, port: int | None = None, host: str | None = None) -> int | None:
    """Start the HTTP exporter in a daemon thread; return the port it listens on (None: not started).

    In a prefork worker, call it in the parent process: it reads the files every
    pool process writes. Starting twice is a no-op.
    """
    global _server
    port = settings.metrics_port if port is None else port
    if port is None:
        return None
    host = host or settings.metrics_host
    with _server_lock:
        if _server is not None:
            return _server.server_port
        if os.environ.get("MODQ_METRICS_PORT") and not MULTIPROCESS:
            # Not expected since _adopt_multiprocess_mode; kept so that a regression is loud, not silent.
            log.error("metrics_not_multiprocess",
                      error="prometheus_client is not in multiprocess mode; "
                            "pool processes' metrics will be missing (set PROMETHEUS_MULTIPROC_DIR)")
        from prometheus_client import start_http_server

        try:
            server, _thread = start_http_server(port, addr=host, registry=registry(settings))
        except OSError as exc:
            log.error("metrics_port_unavailable", host=host, port=port, error=str(exc))
            return None
        _server = server
        log.info("metrics_serving", host=host, port=server.server_port, multiprocess=MULTIPROCESS)
        return server.server_port


def stop() -> None:
    """Stop the exporter (tests)."""
    global _server
    with _server_lock:
        if _server is not None:
            _server.shutdown()
            _server.server_close()
            _server = None


def process_exited(pid: int) -> None:
    """A pool process ended: drop its live-gauge files (its counters stay counted)."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(pid)


# --- S3 upload events (moderation/ingest/services.py) --------------------------------

S3_EVENTS = Counter(
    "modq_s3_events", "S3 upload event records read from MODQ_S3_EVENTS_QUEUE_URL, by outcome (created, duplicate, "
    "skipped, ignored, rejected) and reason (the filter that skipped it, or why it was ignored).",
    ["outcome", "reason"],
)


def s3_event(outcome: str, reason: str = "") -> None:
    """Count one event record; call it after the item it created (if any) was committed."""
    S3_EVENTS.labels(outcome, reason).inc()
