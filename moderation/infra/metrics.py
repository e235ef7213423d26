"""Prometheus metrics: what modq did, how long it took, what it cost, and what is waiting.

Two kinds of figures:

- Events, defined here and counted where they happen (``items.outcomes``, ``providers.instrumented``,
  ``ingest``, ``transparency.submission``, ``privacy.retention``): ``modq_items_decided_total``,
  ``modq_provider_calls_total``, ``modq_provider_latency_seconds``, ``modq_submit_to_decision_seconds``,
  ``modq_estimated_cost_usd_total``, ``modq_s3_events_total``, ``modq_dsa_statements_total``,
  ``modq_retention_items_total``.
- State, read from Redis and the database when Prometheus scrapes, by the collectors the entry points hand
  to ``render_latest`` and ``serve`` (``moderation.ops.collectors``): ``modq_queue_depth``, ``modq_broker_unacked``,
  ``modq_outbox_backlog``, ``modq_outbox_oldest_age_seconds``, ``modq_video_jobs_in_flight``, ``modq_state_up``.

Prefork workers count in several processes. prometheus-client's multiprocess mode handles that: each process
writes its counters to mmap files in ``PROMETHEUS_MULTIPROC_DIR`` and the exporter (in the worker's parent
process) sums them. A worker started with ``MODQ_METRICS_PORT`` set and no ``PROMETHEUS_MULTIPROC_DIR`` gets a
private temporary directory, removed when the process that made it exits. ``worker/app.py`` imports this module
as it loads, so the directory exists before any pool process forks.

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
import sys
import tempfile
import threading
from datetime import datetime
from typing import Any, Iterable

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
    values = sys.modules.get("prometheus_client.values")
    if values is None or getattr(values.ValueClass, "_multiprocess", False):
        return  # not imported yet (it will read the environment itself), or already multiprocess
    if os.environ.get(_MULTIPROC_ENV) or os.environ.get(_MULTIPROC_ENV.lower()):
        values.ValueClass = values.get_value_class()


_OWN_MULTIPROC_DIR = _prepare_multiprocess_dir()
_adopt_multiprocess_mode()

import structlog  # noqa: E402
from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram,  # noqa: E402
                               generate_latest, multiprocess, start_http_server, values)

from moderation.domain.errors import BadInput, DeploymentFault, TransientFault  # noqa: E402
from moderation.infra.clock import aware, utcnow  # noqa: E402

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
S3_EVENTS = Counter(
    "modq_s3_events", "S3 upload event records read from MODQ_S3_EVENTS_QUEUE_URL, by outcome (created, duplicate, "
    "skipped, ignored, rejected) and reason (the filter that skipped it, or why it was ignored).",
    ["outcome", "reason"],
)
DSA_STATEMENTS = Counter("modq_dsa_statements", "Statements of reasons sent to the EU DSA Transparency Database, by "
                         "outcome (sent, already there, rejected, waiting for a retry).", ["outcome"])
RETENTION = Counter("modq_retention_items", "Items retention went over, by rule and outcome (purged; skipped: a "
                    "legal hold, a reviewer's claim, a pending appeal).", ["rule", "outcome"])

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


def record_cost(provider: str, operation: str, usd: float) -> None:
    """Add spend that is not one price per call (e.g. video billed per minute)."""
    if usd > 0:
        ESTIMATED_COST.labels(provider, operation).inc(usd)


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
        decided_at = decided_at or utcnow()
        seconds = (aware(decided_at) - aware(created_at)).total_seconds()
        SUBMIT_TO_DECISION.labels(media_type, provider).observe(max(0.0, seconds))


def s3_event(outcome: str, reason: str = "") -> None:
    """Count one event record; call it after the item it created (if any) was committed."""
    S3_EVENTS.labels(outcome, reason).inc()


# --- exposition ---------------------------------------------------------------


def registry(*collectors: Any) -> CollectorRegistry:
    """What to expose: this process's (or, in multiprocess mode, every process's) events, plus
    ``collectors``: the state the caller reads on scrape (``moderation.ops.collectors``)."""
    reg = CollectorRegistry()
    if MULTIPROCESS:
        multiprocess.MultiProcessCollector(reg)
    else:
        reg.register(_DefaultRegistryView())
    for collector in collectors:
        reg.register(collector)
    return reg


class _DefaultRegistryView:
    """The process's default registry as one collector, so state can be added without touching it."""

    def collect(self):
        return REGISTRY.collect()


def render_latest(*collectors: Any) -> tuple[bytes, str]:
    """The text exposition (body, content type) for ``/metrics``."""
    return generate_latest(registry(*collectors)), CONTENT_TYPE_LATEST


_server_lock = threading.Lock()
_server: Any = None


def serve(settings, port: int | None = None, host: str | None = None, collectors: Iterable[Any] = ()) -> int | None:
    """Start the HTTP exporter in a daemon thread; return the port it listens on (None: not started).

    In a prefork worker, call it in the parent process: it reads the files every
    pool process writes. Starting twice is a no-op. ``collectors`` as for ``registry``.
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
        try:
            server, _thread = start_http_server(port, addr=host, registry=registry(*collectors))
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

