"""Wiring: the implementations picked by config, built once per process.

Use cases take a ``Runtime``; tests build one with fakes (an in-memory
dispatcher, a recording publisher, a stubbed provider) instead of patching.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from typing import Protocol

from config.settings import Settings, get_settings
from moderation import aws, policy
from moderation.alerts import AlertPublisher, LogPublisher, SnsPublisher
from moderation.providers.base import ModerationProvider


class Dispatcher(Protocol):
    """How work reaches the workers (Celery in production)."""

    def moderate(self, item_id: str, media_type: str) -> None: ...

    def publish_alerts(self, alert_ids: list[int]) -> None: ...


@dataclass
class InMemoryDispatcher:
    """Records what would be sent; the test fake and the no-broker option."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    alerts: list[int] = field(default_factory=list)

    def moderate(self, item_id: str, media_type: str) -> None:
        self.sent.append((item_id, media_type))

    def publish_alerts(self, alert_ids: list[int]) -> None:
        self.alerts.extend(alert_ids)


@dataclass
class Runtime:
    settings: Settings
    policy: policy.ThresholdPolicy
    dispatcher: Dispatcher
    publisher: AlertPublisher
    _provider: ModerationProvider | None = None

    @property
    def provider(self) -> ModerationProvider:
        if self._provider is None:  # lazily: the model loads in the worker, not the CLI
            self._provider = build_provider(self.settings)
        return self._provider

    def s3(self):
        return aws.client("s3", self.settings.aws_max_attempts, self.settings.aws_timeout_seconds)


def build_provider(settings: Settings) -> ModerationProvider:
    if settings.provider == "rekognition":
        from moderation.providers.rekognition import RekognitionProvider

        return RekognitionProvider(
            max_attempts=settings.aws_max_attempts,
            timeout=settings.aws_timeout_seconds,
            pool=max(10, settings.worker_concurrency),
        )
    from moderation.providers.local import LocalProvider

    return LocalProvider(threads=settings.local_threads)


def build_publisher(settings: Settings) -> AlertPublisher:
    if settings.sns_topic_arn:
        return SnsPublisher(settings.sns_topic_arn, max_attempts=settings.aws_max_attempts)
    return LogPublisher()


def build_runtime(settings: Settings, dispatcher: Dispatcher | None = None) -> Runtime:
    loaded = policy.load(settings.thresholds)
    if dispatcher is None:
        # Looked up by name so that moderation/ never imports Celery itself.
        dispatcher = importlib.import_module("worker.dispatch").CeleryDispatcher()
    return Runtime(settings, loaded, dispatcher, build_publisher(settings))


_lock = threading.Lock()
_runtime: Runtime | None = None


def get_runtime() -> Runtime:
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = build_runtime(get_settings())
        return _runtime


def set_runtime(runtime: Runtime | None) -> None:
    """Install (or clear, with None) the process-wide runtime."""
    global _runtime
    with _lock:
        _runtime = runtime
