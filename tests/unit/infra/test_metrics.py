"""Prometheus metrics: names, labels and exact amounts, without a worker."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import textwrap
from datetime import datetime, timezone

import pytest

from config.settings import load_settings
from moderation.infra import metrics
from moderation.items import outcomes, services as service
from moderation.domain.errors import BadInput, DeploymentFault, TransientFault
from tests.conftest import REPO, jpeg_bytes
from tests.fakes.providers import labels_for
from tests.metric_samples import Snapshot, value


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
