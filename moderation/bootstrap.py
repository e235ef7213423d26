"""Wiring: the implementations picked by config, built once per process.

Use cases take a ``Runtime``; tests build one with fakes (an in-memory dispatcher, a recording publisher, a
stubbed provider) instead of patching. Only the entry points (``cli``, ``api``, ``worker``) build or get the
runtime, handing in their dispatcher (Celery's: ``worker.dispatch.CeleryDispatcher``); use cases receive it as
an argument and name the type only for type checkers.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import structlog
from sqlalchemy.exc import SQLAlchemyError

from config.settings import Settings, get_settings
from moderation.infra import aws, coordination, db
from moderation.infra.semaphore import LeaseSemaphore
from moderation.domain import policy
from moderation.domain.decisions import Decided, Undone
from moderation.alerts.services import AlertPublisher, InlineRelay, LogPublisher, SnsPublisher
from moderation.policy import versions as policy_store
from moderation.providers.base import ModerationProvider
from moderation.providers.guard import guard_rekognition_clients
from moderation.providers.instrumented import instrument
from moderation.providers.recorded import RecordedProvider
from moderation.providers.rekognition import RekognitionProvider
from moderation.providers.rekognition_video import RekognitionVideo
from moderation.privacy import services as privacy
from moderation.transparency import services as transparency


class Dispatcher(Protocol):
    """How work reaches the workers (Celery in production)."""

    def moderate(self, item_id: str, media_type: str) -> None: ...

    def moderate_many(self, items: list[tuple[str, str]]) -> None:
        """Send the tasks of several (item_id, media_type) at once, in one broker round trip (a batch
        submit); raises if the batch may not have gone out (its items are then the reaper's)."""

    def publish_alerts(self, alert_ids: list[int], countdown: float = 0) -> None:
        """Publish these outbox rows (``modq.publish_alert``), after ``countdown`` seconds: a review's alerts
        wait out its undo window (beat's flush is the guarantee either way)."""

    def deliver_webhooks(self, delivery_ids: list[int]) -> None:
        """Send webhook deliveries (``moderation.alerts.delivery``), one task each."""

    def poll_video(self, item_id: str, countdown: float = 0) -> None:
        """Check a running video job after ``countdown`` seconds."""

    def reevaluate_policy(self, job_id: str) -> None:
        """Run a recorded re-evaluation job (``moderation.policy.reevaluations``)."""


@dataclass
class InMemoryDispatcher:
    """Records what would be sent; the test fake and the no-broker option."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    alerts: list[int] = field(default_factory=list)
    scheduled: list[tuple[str, str, float]] = field(default_factory=list)  # (task, item_id, countdown)
    jobs: list[str] = field(default_factory=list)  # re-evaluation job ids
    batches: list[int] = field(default_factory=list)  # the size of each moderate_many call
    webhooks: list[int] = field(default_factory=list)  # webhook delivery ids
    delayed: list[tuple[int, float]] = field(default_factory=list)  # (alert id, countdown) of held alerts

    def moderate(self, item_id: str, media_type: str) -> None:
        self.sent.append((item_id, media_type))

    def moderate_many(self, items: list[tuple[str, str]]) -> None:
        self.sent.extend(items)
        self.batches.append(len(items))

    def publish_alerts(self, alert_ids: list[int], countdown: float = 0) -> None:
        self.alerts.extend(alert_ids)  # every alert handed on; those to wait first also in ``delayed``
        if countdown:
            self.delayed.extend((alert_id, countdown) for alert_id in alert_ids)

    def deliver_webhooks(self, delivery_ids: list[int]) -> None:
        self.webhooks.extend(delivery_ids)

    def poll_video(self, item_id: str, countdown: float = 0) -> None:
        self.scheduled.append(("poll_video", item_id, countdown))

    def reevaluate_policy(self, job_id: str) -> None:
        self.jobs.append(job_id)


VIDEO_SLOTS_KEY = "modq:video:job-slots"


@dataclass
class Runtime:
    settings: Settings
    policy: policy.ThresholdPolicy
    dispatcher: Dispatcher
    publisher: AlertPublisher
    _provider: ModerationProvider | None = None
    _video: Any = None  # RekognitionVideo
    _video_slots: Any = None  # limits.LeaseSemaphore
    _leases: Any = None  # lease.Leases
    _active: Any = None  # ({tenant id or None: ThresholdPolicy}, monotonic time read) of the DB's active versions
    #: Publishes a decision's alerts from the deciding task (``alerts.services.InlineRelay``; workers).
    #: None: they go out as publish_alert tasks through the dispatcher.
    alert_relay: InlineRelay | None = None  # the worker's: its deciding tasks publish their own alerts

    @property
    def provider(self) -> ModerationProvider:
        if self._provider is None:  # lazily: the model loads in the worker, not the CLI
            self._provider = build_provider(self.settings)
        return self._provider

    def active_policy(self, tenant_id: int | None = None) -> policy.ThresholdPolicy:
        """The policy deciding ``tenant_id``'s items (None: the deployment's): its own applied version
        (``modq policy apply --tenant``), else the deployment's, else ``self.policy`` (the MODQ_THRESHOLDS
        file). Every tenant's active version is read in one query every MODQ_POLICY_REFRESH_SECONDS (a
        version's text only when it is new to this process), so deciding an item costs no query."""
        cached = self._active
        now = time.monotonic()
        if cached is None or now - cached[1] >= self.settings.policy_refresh_seconds:
            cached = self._active = (self._read_policies(cached[0] if cached else {}), now)
        levels = cached[0]
        found = levels.get(tenant_id) if tenant_id is not None else None
        if found is None:
            found = levels.get(None)
        return self.policy if found is None else found

    def _read_policies(self, had: dict[int | None, policy.ThresholdPolicy]) -> dict[int | None, policy.ThresholdPolicy]:
        """{tenant id (None: the deployment's): its applied policy}, parsed once per version."""
        url = self.settings.database_url
        try:
            versions = policy_store.active_versions(url)
            known = {p.version: p for p in (*had.values(), self.policy)}
            new = {v for v in versions.values() if v not in known}
            for version, text in (policy_store.texts(url, new) if new else {}).items():
                known[version] = policy.parse(text, source=f"policy version {version}")
        except SQLAlchemyError as exc:  # database briefly away: keep deciding with what we had
            structlog.get_logger("modq.runtime").warning("policy_refresh_failed", error=str(exc))
            return had
        return {level: known[version] for level, version in versions.items()}

    def decided(self, session: Any, event: Decided) -> list[int]:
        """What follows a decision, in its transaction (``domain.decisions``): a statement of reasons, the
        notices it answers, an erasure that waited for it; the outbox rows written, for the caller to publish."""
        written = transparency.on_decision(session, self, event)
        privacy.on_decision(session, self, event)
        return written

    def undone(self, session: Any, event: Undone) -> None:
        transparency.on_undo(session, self, event)

    @property
    def leases(self):
        """Which delivery is working on an item (moderation/infra/lease.py), shared through Redis."""
        if self._leases is None:
            self._leases = coordination.leases(self.settings)
        return self._leases

    def s3(self):
        return aws.client("s3", self.settings.aws_max_attempts, self.settings.aws_timeout_seconds)

    def sqs(self):
        return aws.client("sqs", self.settings.aws_max_attempts, self.settings.aws_timeout_seconds)

    @property
    def video(self):
        """Rekognition's stored-video API (Start/GetContentModeration)."""
        if self._video is None:
            s = self.settings  # counted and timed like the image provider's calls
            self._video = instrument(RekognitionVideo(max_attempts=s.aws_max_attempts, timeout=s.aws_timeout_seconds,
                                                      pool=max(10, s.worker_concurrency)), s)
        return self._video

    @property
    def video_slots(self):
        """The Redis semaphore that keeps Rekognition video jobs under the account's limit."""
        if self._video_slots is None:
            s = self.settings  # the fleet's shared Redis client (pool sized to the worker's concurrency)
            self._video_slots = LeaseSemaphore(coordination.redis_client(s), s.broker_key_prefix + VIDEO_SLOTS_KEY,
                                               s.video_max_concurrent_jobs, s.video_slot_lease_seconds)
        return self._video_slots


def build_provider(settings: Settings) -> ModerationProvider:
    """The configured provider; calls are counted and timed (moderation.providers.instrumented) right around it."""
    return instrument(_bare_provider(settings), settings)


def _bare_provider(settings: Settings) -> ModerationProvider:
    if settings.provider == "rekognition":
        return RekognitionProvider(
            max_attempts=settings.aws_max_attempts,
            timeout=settings.aws_timeout_seconds,
            pool=max(10, settings.worker_concurrency),
        )
    if settings.provider == "recorded":  # replays answers from a file; calls nothing
        return RecordedProvider(settings.recorded_answers)
    from moderation.providers.local import LocalProvider  # heavy: onnxruntime and the NudeNet model, local only

    return LocalProvider(threads=settings.local_threads)


def build_publisher(settings: Settings) -> AlertPublisher:
    if settings.sns_topic_arn:
        return SnsPublisher(settings.sns_topic_arn, max_attempts=settings.aws_max_attempts)
    return LogPublisher()


def build_runtime(settings: Settings, dispatcher: Dispatcher, inline_alerts: bool = False) -> Runtime:
    """``inline_alerts``: the worker's runtime, whose tasks publish the alerts they write themselves."""
    loaded = policy.load(settings.thresholds)
    guard_rekognition_clients(settings)  # global rate limit and circuit breaker
    rt = Runtime(settings, loaded, dispatcher, build_publisher(settings))
    if inline_alerts:  # paused after a failure until the outbox's next flush
        rt.alert_relay = InlineRelay(settings.database_url, rt.publisher, settings.outbox_interval_seconds)
    return rt


_lock = threading.Lock()
_runtime: Runtime | None = None


def get_runtime(make_dispatcher: Callable[[], Dispatcher], inline_alerts: bool = False) -> Runtime:
    """The process-wide runtime, built on first use around the entry point's dispatcher.

    A factory, called only when the runtime is built: a runtime already installed (a test's, by
    ``set_runtime``) is returned as it is, and the entry point's dispatcher is never made.
    """
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = build_runtime(get_settings(), make_dispatcher(), inline_alerts)
        return _runtime


def set_runtime(runtime: Runtime | None) -> None:
    """Install (or clear, with None) the process-wide runtime."""
    global _runtime
    with _lock:
        _runtime = runtime


def after_fork() -> None:
    """A forked worker process must not share its parent's pooled database connections or AWS clients."""
    db.dispose_all()
    aws.reset_clients()
