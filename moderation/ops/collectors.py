"""What is waiting, read from Redis and the database each time Prometheus scrapes.

``StateCollector`` yields ``modq_queue_depth``, ``modq_broker_unacked``,
``modq_outbox_backlog``, ``modq_outbox_oldest_age_seconds``,
``modq_video_jobs_in_flight``, ``modq_items_in_flight`` and ``modq_items_oldest_in_flight_seconds``
(by status), ``modq_review_backlog`` and ``modq_review_oldest_waiting_seconds`` (by verdict and category:
the thresholds file's ``priority`` ranks, ``category="all"`` for every category) and ``modq_state_up``. The entry points that
serve metrics hand it to ``moderation.infra.metrics`` (the API's ``/metrics``,
the worker's exporter); ``modq stats`` reads the queues with ``queue_depths``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
import structlog
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from moderation.alerts.models import Alert
from moderation.alerts.queries import sendable
from moderation.domain import priority
from moderation.infra.clock import aware, utcnow
from moderation.items import models as m
from moderation.review import backlog
from moderation.review.queries import REVIEWABLE, awaiting_review

log = structlog.get_logger("modq.metrics")

_KOMBU_PRIORITY_SEP = "\x06\x16"  # kombu's Redis transport: queue, queue\x06\x163, ...\x166, ...\x169
_KOMBU_PRIORITY_STEPS = (0, 3, 6, 9)


def queue_depths(broker_url: str, queues: tuple[str, ...], timeout: float = 2.0,
                 prefix: str = "") -> tuple[dict[str, int], int]:
    """Messages waiting per queue (all priority lists) and messages delivered but not yet acked.

    ``queues``: the worker's queue names (``worker.app.QUEUES``, handed in by the entry point).
    ``prefix``: the broker's ``global_keyprefix`` (MODQ_BROKER_KEY_PREFIX).
    """
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


@dataclass(frozen=True)
class Waiting:
    count: int
    oldest_seconds: float  # since the oldest one was submitted; 0: none


def database_state(database_url: str, priorities: priority.Priorities = priority.DEFAULT) -> dict[str, Any]:
    """Outbox backlog and its oldest row's age; items in flight and items awaiting review, each by status
    with the oldest one's age (both on the (status, created_at) index), the latter also by category
    (``review.backlog``, named by ``priorities``); video jobs running at the provider."""
    now = utcnow()
    with _state_engine(database_url).connect() as conn:
        unpublished, oldest = conn.execute(
            select(func.count(), func.min(Alert.created_at)).where(Alert.published_at.is_(None), sendable(now))
        ).one()
        in_flight = _waiting(conn, now, m.Item.status.in_(m.IN_FLIGHT), m.IN_FLIGHT)
        review = _waiting(conn, now, awaiting_review(), REVIEWABLE)
        categories = backlog.fold(conn.execute(backlog.query()).all(), priorities, now)
    return {"outbox_backlog": int(unpublished), "outbox_oldest_age_seconds": _age(now, oldest),
            "video_jobs_in_flight": in_flight[m.SUBMITTED].count, "in_flight": in_flight, "review": review,
            "review_by_category": categories}


def _waiting(conn, now: datetime, where, statuses: tuple[str, ...]) -> dict[str, Waiting]:
    """Count and oldest age of the items ``where`` selects, by status; each of ``statuses`` present, 0 when none."""
    query = select(m.Item.status, func.count(), func.min(m.Item.created_at)).where(where).group_by(m.Item.status)
    found = {status: Waiting(int(count), _age(now, first)) for status, count, first in conn.execute(query).all()}
    return {status: found.get(status, Waiting(0, 0.0)) for status in statuses}


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - aware(then)).total_seconds()) if then is not None else 0.0


class StateCollector:
    """Gauges computed on scrape from Redis (queues) and the database (outbox, video jobs)."""

    def __init__(self, database_url: str, broker_url: str, queues: tuple[str, ...], prefix: str = "",
                 priorities: priority.Priorities = priority.DEFAULT):
        self.database_url, self.broker_url, self.queues, self.prefix = database_url, broker_url, queues, prefix
        self.priorities = priorities  # names the review backlog's categories

    @classmethod
    def of(cls, settings, queues: tuple[str, ...],
           priorities: priority.Priorities = priority.DEFAULT) -> "StateCollector":
        """The deployment's broker and database, as ``settings`` names them; ``queues`` as the worker names them;
        ``priorities``: the active policy's ranking (names the review backlog's categories)."""
        return cls(settings.database_url, settings.broker_url, queues,
                   prefix=getattr(settings, "broker_key_prefix", "") or "", priorities=priorities)

    def describe(self):  # no scrape at registration time
        return []

    def collect(self):
        up = GaugeMetricFamily("modq_state_up", "1 if the last scrape could read this source.", labels=["source"])
        yield from self._broker(up)
        yield from self._database(up)
        yield up

    def _broker(self, up: GaugeMetricFamily):
        try:
            depths, unacked = queue_depths(self.broker_url, self.queues, prefix=self.prefix)
        except Exception as exc:  # a scrape must answer even when Redis is down
            log.warning("metrics_state_failed", source="redis", error=str(exc))
            up.add_metric(["redis"], 0)
            return
        up.add_metric(["redis"], 1)
        depth = GaugeMetricFamily("modq_queue_depth", "Messages waiting in the broker, by queue.", labels=["queue"])
        for queue, count in depths.items():
            depth.add_metric([queue], count)
        yield depth
        yield GaugeMetricFamily("modq_broker_unacked", "Messages delivered to workers and not yet acknowledged "
                                "(running, prefetched or waiting for a retry countdown).", value=unacked)

    def _database(self, up: GaugeMetricFamily):
        try:
            state = database_state(self.database_url, self.priorities)
        except Exception as exc:
            log.warning("metrics_state_failed", source="database", error=str(exc))
            up.add_metric(["database"], 0)
            return
        up.add_metric(["database"], 1)
        yield GaugeMetricFamily("modq_outbox_backlog", "Alerts written and not yet published.",
                                value=state["outbox_backlog"])
        yield GaugeMetricFamily("modq_outbox_oldest_age_seconds", "Age of the oldest unpublished alert (0: none).",
                                value=state["outbox_oldest_age_seconds"])
        yield GaugeMetricFamily("modq_video_jobs_in_flight",
                                "Video items whose provider job is running (status submitted).",
                                value=state["video_jobs_in_flight"])
        yield from _by_label("modq_items_in_flight", "modq_items_oldest_in_flight_seconds", "status",
                             "Items submitted and not yet decided, by status", state["in_flight"])
        yield from _review(state["review"], state["review_by_category"])


def _by_label(count_name: str, age_name: str, label: str, what: str, waiting: dict[str, Waiting]):
    count = GaugeMetricFamily(count_name, f"{what}.", labels=[label])
    age = GaugeMetricFamily(age_name, f"{what}: seconds since the oldest was submitted (0: none).", labels=[label])
    for value, w in waiting.items():
        count.add_metric([value], w.count)
        age.add_metric([value], w.oldest_seconds)
    yield count
    yield age


def _review(by_verdict: dict[str, Waiting], by_category: list[backlog.Waiting]):
    """By verdict and category; ``category="all"``: every category of that verdict (so ``max by (verdict)``
    reads as before; a sum over categories leaves "all" out)."""
    what = "Items awaiting a person's review, by automatic verdict and category (the thresholds file's priority)"
    count = GaugeMetricFamily("modq_review_backlog", f"{what}.", labels=["verdict", "category"])
    age = GaugeMetricFamily("modq_review_oldest_waiting_seconds",
                            f"{what}: seconds since the oldest was submitted (0: none).", labels=["verdict", "category"])
    for verdict, w in by_verdict.items():
        count.add_metric([verdict, "all"], w.count)
        age.add_metric([verdict, "all"], w.oldest_seconds)
    for c in by_category:
        count.add_metric([c.verdict, c.category], c.count)
        age.add_metric([c.verdict, c.category], c.oldest_seconds)
    yield count
    yield age
