"""Prometheus metrics: names, labels and exact amounts, without a worker."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone

import fakeredis
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from config.settings import load_settings
from moderation.infra import metrics
from moderation.ops.collectors import StateCollector
from worker.app import QUEUES
from moderation.providers import instrumented
from moderation.items import outcomes, services as service
from moderation.domain.errors import BadInput, DeploymentFault, TransientFault
from moderation.items import models as m
from moderation.alerts.models import Alert
from moderation.infra.db import transaction
from tests.conftest import REPO, jpeg_bytes
from tests.fakes.providers import FakeProvider, labels_for


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Snapshot:
    """Counter values now, to assert on what moved since."""

    def __init__(self, *keys: tuple[str, dict]):
        self.before = {self._key(n, lab): value(n, **lab) for n, lab in keys}

    @staticmethod
    def _key(name, labels):
        return name, tuple(sorted(labels.items()))

    def delta(self, name: str, **labels) -> float:
        return value(name, **labels) - self.before.get(self._key(name, labels), 0.0)


def test_outcomes_name_the_error_class():
    assert metrics.outcome_of(None) == "ok"
    assert metrics.outcome_of(BadInput("x")) == "bad_input"
    assert metrics.outcome_of(DeploymentFault("x")) == "deployment_fault"
    assert metrics.outcome_of(TransientFault("Rekognition still failing after retries "
                                             "(DetectModerationLabels ThrottlingException)")) == "throttled"
    throughput = TransientFault("DetectModerationLabels ProvisionedThroughputExceededException")
    assert metrics.outcome_of(throughput) == "throttled"
    assert metrics.outcome_of(TransientFault("Rekognition unreachable: timeout")) == "transient"
    assert metrics.outcome_of(RuntimeError("bug")) == "error"


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

    from moderation.media.imaging import PreparedImage

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
    from moderation.media.imaging import PreparedImage

    before = value("modq_estimated_cost_usd_total", provider="local", operation="DetectModerationLabels")
    provider.analyze_image(PreparedImage(data=b"x", sha256="k"), 50)
    assert value("modq_estimated_cost_usd_total", provider="local", operation="DetectModerationLabels") == before


def test_build_provider_is_instrumented(make_settings):
    from moderation.bootstrap import build_provider

    provider = build_provider(make_settings(provider="rekognition"))
    assert isinstance(provider, instrumented.InstrumentedProvider) and provider.name == "rekognition"
    assert provider.reads_s3_directly


def test_submit_to_decision_accepts_naive_datetimes():
    labels = dict(media_type="image", provider="unit-naive")
    count = value("modq_submit_to_decision_seconds_count", **labels)
    total = value("modq_submit_to_decision_seconds_sum", **labels)
    created = datetime(2026, 1, 1, 12, 0, 0)  # SQLite hands these back without a zone
    decided = datetime(2026, 1, 1, 12, 0, 3, tzinfo=timezone.utc)
    metrics.item_decided("approved", "unit-naive", "image", created, decided)
    metrics.item_decided("failed", "unit-naive", "image", created)  # failures: counted, not timed
    assert value("modq_submit_to_decision_seconds_count", **labels) == count + 1
    assert value("modq_submit_to_decision_seconds_sum", **labels) == pytest.approx(total + 3.0)
    assert value("modq_items_decided_total", verdict="failed", provider="unit-naive", media_type="image") >= 1


def put(media_root, name: str, data: bytes) -> str:
    (media_root / name).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def test_process_image_counts_each_outcome_once(rt, media_root, fake_provider):
    clean = put(media_root, "clean.jpg", jpeg_bytes(color=(1, 2, 3)))
    nude = put(media_root, "nude.jpg", jpeg_bytes(color=(4, 5, 6)))
    put(media_root, "broken.jpg", b"\xff\xd8\xff not really a jpeg")
    fake_provider.by_key[nude] = labels_for("Exposed Female Genitalia", 99)
    keys = [("modq_items_decided_total", dict(verdict=v, provider="local", media_type="image"))
            for v in ("approved", "rejected", "failed")]
    snap = Snapshot(*keys, ("modq_submit_to_decision_seconds_count", dict(media_type="image", provider="local")))

    ids = [service.submit(name, rt=rt).item_id for name in ("clean.jpg", "clean.jpg", "nude.jpg", "broken.jpg")]
    for item_id in ids:
        service.process_image(item_id, rt=rt)
    for item_id in ids:  # a duplicate delivery changes nothing and counts nothing
        service.process_image(item_id, rt=rt)
    outcomes.fail_item(ids[0], "too late: already decided", rt=rt)

    decided = dict(provider="local", media_type="image")
    assert snap.delta("modq_items_decided_total", verdict="approved", **decided) == 2
    assert snap.delta("modq_items_decided_total", verdict="rejected", **decided) == 1
    assert snap.delta("modq_items_decided_total", verdict="failed", **decided) == 1
    assert snap.delta("modq_submit_to_decision_seconds_count", media_type="image", provider="local") == 3
    assert clean  # same bytes twice: two items, two decisions


def test_state_collector_reads_queues_outbox_and_video_jobs(rt, monkeypatch):
    server = fakeredis.FakeServer()
    monkeypatch.setattr("redis.Redis.from_url", lambda *a, **k: fakeredis.FakeRedis(server=server))
    client = fakeredis.FakeRedis(server=server)
    client.rpush("images", *[b"m"] * 5)
    client.rpush("images\x06\x169", b"urgent")
    client.rpush("alerts", b"a")
    client.hset("unacked", "tag-1", b"x")
    url = rt.settings.database_url
    old = datetime.now(timezone.utc) - timedelta(seconds=120)
    with transaction(url) as s:
        video = m.Item(media_uri="s3://b/v.mp4", media_type="video", status=m.SUBMITTED)
        image = m.Item(media_uri="s3://b/i.jpg", media_type="image", status=m.REJECTED)
        s.add_all([video, image])
        s.flush()
        s.add_all([Alert(item_id=image.id, kind="decision", dedup_id="d1", subject="s", created_at=old),
                   Alert(item_id=image.id, kind="decision", dedup_id="d2", subject="s"),
                   Alert(item_id=image.id, kind="decision", dedup_id="d3", subject="s",
                           published_at=datetime.now(timezone.utc))])

    body, content_type = metrics.render_latest(StateCollector.of(rt.settings, QUEUES))
    assert content_type.startswith("text/plain")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for fam in text_string_to_metric_families(body.decode()) for s in fam.samples}
    assert samples[("modq_queue_depth", (("queue", "images"),))] == 6
    assert samples[("modq_queue_depth", (("queue", "alerts"),))] == 1
    assert samples[("modq_queue_depth", (("queue", "videos"),))] == 0
    assert samples[("modq_broker_unacked", ())] == 1
    assert samples[("modq_outbox_backlog", ())] == 2
    assert 119 <= samples[("modq_outbox_oldest_age_seconds", ())] < 600
    assert samples[("modq_video_jobs_in_flight", ())] == 1
    assert samples[("modq_state_up", (("source", "redis"),))] == 1
    assert samples[("modq_state_up", (("source", "database"),))] == 1


def test_state_collector_answers_when_sources_are_down(make_settings):
    settings = make_settings(broker_url="redis://127.0.0.1:1/0", database_url="postgresql://nobody@127.0.0.1:1/none")
    body, _ = metrics.render_latest(StateCollector.of(settings, QUEUES))
    text = body.decode()
    assert 'modq_state_up{source="redis"} 0.0' in text and 'modq_state_up{source="database"} 0.0' in text
    assert "modq_queue_depth{" not in text and "modq_outbox_backlog " not in text


MULTIPROCESS_SCRIPT = textwrap.dedent("""
    import json, os, sys
    {first_import}
    from moderation.infra import metrics
    assert metrics.MULTIPROCESS, "MODQ_METRICS_PORT set: multiprocess mode expected"
    children = []
    for n in (2, 3):  # two forked "pool processes" count independently
        pid = os.fork()
        if pid == 0:
            for _ in range(n):
                metrics.item_decided("approved", "mp", "image")
            metrics.PROVIDER_LATENCY.labels("mp", "DetectModerationLabels").observe(0.2)
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
        metrics.process_exited(pid)
    from prometheus_client import generate_latest
    text = generate_latest(metrics.registry()).decode()
    print(json.dumps({"dir": os.environ["PROMETHEUS_MULTIPROC_DIR"], "text": text}))
""")


@pytest.mark.parametrize("first_import", [
    "",
    # What Flower's celery plugin does before `celery -A worker worker` reaches modq's code.
    "import prometheus_client, prometheus_client.values; assert not prometheus_client.values.ValueClass._multiprocess",
], ids=["modq-first", "prometheus-client-imported-first"])
def test_prefork_children_are_summed_by_the_parent(tmp_path, first_import):
    env = {k: v for k, v in os.environ.items() if k.upper() != "PROMETHEUS_MULTIPROC_DIR"}
    env["MODQ_METRICS_PORT"] = "0"
    script = MULTIPROCESS_SCRIPT.replace("{first_import}", first_import)
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    text = result["text"]
    assert 'modq_items_decided_total{media_type="image",provider="mp",verdict="approved"} 5.0' in text
    assert 'modq_provider_latency_seconds_count{operation="DetectModerationLabels",provider="mp"} 2.0' in text
    assert not os.path.exists(result["dir"]), "the private multiprocess directory is removed at exit"


# --- where the worker's exporter listens -----------------------------------------------------
# The exporter has no authentication. Every 127.x.y.z address reaches this machine's loopback
# interface (Linux), so 127.0.0.2 stands for "another address of this machine": a socket bound to
# 127.0.0.1 refuses it, one bound to every interface (0.0.0.0) answers it.


def _connects(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def exporter():
    yield
    metrics.stop()


@pytest.mark.parametrize("host_env, answers, refuses", [
    (None, ["127.0.0.1"], ["127.0.0.2"]),  # the default: this machine only
    ("127.0.0.2", ["127.0.0.2"], ["127.0.0.1"]),  # the address the operator names, and no other
    ("0.0.0.0", ["127.0.0.1", "127.0.0.2"], []),  # opened on purpose (e.g. a container scraped over its network)
], ids=["default", "configured", "every-interface"])
def test_worker_exporter_listens_where_metrics_host_says(exporter, monkeypatch, host_env, answers, refuses):
    if host_env is None:
        monkeypatch.delenv("MODQ_METRICS_HOST", raising=False)
    else:
        monkeypatch.setenv("MODQ_METRICS_HOST", host_env)
    port = metrics.serve(load_settings(), port=0)  # what worker/app.py's worker_ready handler calls, on a free port
    assert port
    assert {host: _connects(host, port) for host in answers + refuses} == \
        {**{host: True for host in answers}, **{host: False for host in refuses}}
