"""A real prefork worker exports Prometheus metrics on MODQ_METRICS_PORT; after it
processes known items, every counter moved by exactly the right amount."""

from __future__ import annotations

import socket
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from moderation.domain import policy
from moderation.items import services as service
from moderation.bootstrap import InMemoryDispatcher, Runtime, build_publisher
from tests.fakes.providers import labels_for
from tests.integration.conftest import WorkerProcess, wait_for, wait_terminal

pytestmark = pytest.mark.integration
BUCKET = "ugc-metrics"
PRICE = 0.00125
WAITING_VIDEOS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def sample(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@contextmanager
def exporting_worker(env: dict[str, str], log_path: Path, name: str):
    """A prefork worker (2 processes) on a queue of its own, exporting metrics on a free port:
    (process, queue, port) once the exporter answers."""
    queue, port = f"{name}-{uuid.uuid4().hex[:8]}", free_port()
    proc = WorkerProcess(dict(env, MODQ_METRICS_PORT=str(port)), log_path, queues=queue, pool="prefork",
                         concurrency=2)
    try:
        wait_for(lambda: _answers(port), 30, message="the metrics exporter")
        yield proc, queue, port
    finally:
        proc.stop()


@pytest.fixture
def metrics_worker(worker_env, tmp_path):
    env = dict(worker_env, MODQ_METRICS_HOST="127.0.0.1", MODQ_PRICE_PER_IMAGE=str(PRICE))
    with exporting_worker(env, tmp_path / "worker.log", "metrics") as worker:
        yield worker


def _answers(port: int) -> bool:
    try:
        scrape(port)
        return True
    except OSError:
        return False


def test_worker_metrics_count_exactly_what_happened(metrics_worker, rekognition, it_settings):
    from worker.tasks import moderate_image, start_video

    proc, queue, port = metrics_worker
    # Submitted with an in-memory dispatcher, then sent to this worker's own queue,
    # so that no other worker in the session takes any of them.
    rt = Runtime(it_settings, policy.load(it_settings.thresholds), InMemoryDispatcher(), build_publisher(it_settings))
    cases = {  # verdict -> labels, how many
        "approved": ([], 3),
        "flagged": (labels_for("Nazi Party", 72), 1),
        "rejected": (labels_for("Exposed Female Genitalia", 98.5), 2),
    }
    ids: dict[str, list[str]] = {v: [] for v in (*cases, "failed")}
    for verdict, (labels, n) in cases.items():
        for _ in range(n):
            key = f"{uuid.uuid4().hex}/{verdict}.jpg"
            rekognition.add_s3_object(BUCKET, key, labels=[lab.to_dict() for lab in labels])
            ids[verdict].append(service.submit(f"s3://{BUCKET}/{key}", rt=rt).item_id)
    bad_key = f"{uuid.uuid4().hex}/not-an-image.jpg"
    rekognition.add_s3_object(BUCKET, bad_key, error="InvalidImageFormatException")
    ids["failed"].append(service.submit(f"s3://{BUCKET}/{bad_key}", rt=rt).item_id)
    all_ids = [i for group in ids.values() for i in group]

    before = scrape(port)
    for item_id in all_ids:
        moderate_image.apply_async((item_id,), queue=queue)
    rows = wait_terminal(it_settings.database_url, all_ids)
    for verdict, group in ids.items():
        assert {rows[i].status for i in group} == {verdict}, [rows[i].failure_reason for i in group]

    # A duplicate delivery of a decided item: no provider call, no second decision.
    moderate_image.apply_async((ids["approved"][0],), queue=queue)
    wait_for(lambda: "already_done" in proc.output(), 30, message="the duplicate delivery")
    # A known backlog on a queue no worker here consumes (items that do not exist: whoever takes them does nothing).
    for _ in range(WAITING_VIDEOS):
        start_video.apply_async((f"no-such-item-{uuid.uuid4()}",), queue="videos", expires=30)

    after = scrape(port)

    def moved(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    decided = dict(provider="rekognition", media_type="image")
    assert moved("modq_items_decided_total", verdict="approved", **decided) == 3
    assert moved("modq_items_decided_total", verdict="flagged", **decided) == 1
    assert moved("modq_items_decided_total", verdict="rejected", **decided) == 2
    assert moved("modq_items_decided_total", verdict="failed", **decided) == 1

    op = dict(provider="rekognition", operation="DetectModerationLabels")
    assert moved("modq_provider_calls_total", outcome="ok", **op) == 6
    assert moved("modq_provider_calls_total", outcome="bad_input", **op) == 1
    assert moved("modq_provider_calls_total", outcome="throttled", **op) == 0
    assert moved("modq_provider_latency_seconds_count", **op) == 7
    assert moved("modq_estimated_cost_usd_total", **op) == pytest.approx(6 * PRICE)
    assert moved("modq_submit_to_decision_seconds_count", media_type="image", provider="rekognition") == 6
    assert moved("modq_submit_to_decision_seconds_sum", media_type="image", provider="rekognition") > 0
    with rekognition.lock:
        assert rekognition.calls["DetectModerationLabels"] == 7  # the fake agrees with the counters

    assert '"multiprocess": true' in proc.output()  # the parent sums its pool processes' files

    # State read on scrape from Redis and PostgreSQL.
    assert sample(after, "modq_state_up", source="redis") == 1
    assert sample(after, "modq_state_up", source="database") == 1
    depth = ("modq_queue_depth", (("queue", "videos"),))
    assert depth in before and depth in after  # a missing sample would read as 0 below
    assert after[depth] - before[depth] == WAITING_VIDEOS
    assert ("modq_outbox_backlog", ()) in after and ("modq_video_jobs_in_flight", ()) in after
