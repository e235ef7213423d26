"""Worker metrics survive Flower being installed (docs/performance.md recommends it).

Flower registers a ``celery`` CLI plugin (entry point group ``celery.commands``).
The CLI imports every plugin before it reads ``-A worker``, and Flower's plugin
imports prometheus_client, so prometheus_client is loaded before any modq code
runs in ``celery -A worker worker``. A real prefork worker started that way
must still count what its pool processes do.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import uuid

import pytest

from moderation.domain import policy
from moderation.items import services as service
from moderation.bootstrap import InMemoryDispatcher, Runtime, build_publisher
from tests.fakes.providers import labels_for
from tests.integration.conftest import wait_terminal
from tests.integration.test_metrics_scrape import exporting_worker, sample, scrape

pytestmark = pytest.mark.integration
BUCKET = "ugc-metrics-flower"


def flower_is_a_celery_plugin() -> bool:
    plugins = importlib.metadata.entry_points(group="celery.commands")
    return importlib.util.find_spec("flower") is not None and any(p.name == "flower" for p in plugins)


@pytest.fixture
def worker_with_flower_installed(worker_env, tmp_path):
    """A prefork worker (2 processes) exporting metrics on a free port, on its own queue.

    No PROMETHEUS_MULTIPROC_DIR and no MODQ_METRICS_HOST: modq chooses both.
    """
    assert flower_is_a_celery_plugin(), "flower (requirements-dev.txt) must be installed for this test to mean anything"
    env = {k: v for k, v in worker_env.items() if k.upper() != "PROMETHEUS_MULTIPROC_DIR"}
    with exporting_worker(env, tmp_path / "worker.log", "metrics-flower") as worker:
        yield worker


def test_pool_process_counters_are_exported_with_flower_installed(worker_with_flower_installed, rekognition,
                                                                 it_settings):
    from worker.tasks import moderate_image

    proc, queue, port = worker_with_flower_installed
    rt = Runtime(it_settings, policy.load(it_settings.thresholds), InMemoryDispatcher(), build_publisher(it_settings))
    ids: dict[str, list[str]] = {"approved": [], "rejected": []}
    for verdict, labels, n in (("approved", [], 3), ("rejected", labels_for("Exposed Female Genitalia", 98.5), 2)):
        for _ in range(n):
            key = f"{uuid.uuid4().hex}/{verdict}.jpg"
            rekognition.add_s3_object(BUCKET, key, labels=[lab.to_dict() for lab in labels])
            ids[verdict].append(service.submit(f"s3://{BUCKET}/{key}", rt=rt).item_id)
    all_ids = ids["approved"] + ids["rejected"]

    before = scrape(port)
    for item_id in all_ids:  # prefork: every task runs in a pool process, none in the exporter's process
        moderate_image.apply_async((item_id,), queue=queue)
    rows = wait_terminal(it_settings.database_url, all_ids)
    for verdict, group in ids.items():
        assert {rows[i].status for i in group} == {verdict}, [rows[i].failure_reason for i in group]
    after = scrape(port)

    def moved(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    decided = dict(provider="rekognition", media_type="image")
    assert moved("modq_items_decided_total", verdict="approved", **decided) == 3
    assert moved("modq_items_decided_total", verdict="rejected", **decided) == 2
    op = dict(provider="rekognition", operation="DetectModerationLabels")
    assert moved("modq_provider_calls_total", outcome="ok", **op) == 5
    assert moved("modq_provider_latency_seconds_count", **op) == 5

    log = proc.output()
    assert "metrics_not_multiprocess" not in log
    assert '"multiprocess": true' in log
