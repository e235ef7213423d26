"""PUT /v1/policy?reevaluate=true with a real worker: the API answers 202 at once, the task goes through
Redis to a worker on the maintenance queue, and the job's status URL follows it to the end, on PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from celery import Celery
from fastapi.testclient import TestClient

from config.settings import Settings
from moderation.api.app import create_app
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.domain import policy
from moderation.infra.lease import LocalLeases
from moderation.tenants import tokens
from tests.fakes.providers import FakeProvider, RecordingPublisher
from tests.integration.conftest import WorkerProcess, wait_for
from tests.integration.fresh_pg import fresh_database
from tests.review_items import decided_item
from worker.app import ROUTES
from worker.dispatch import CeleryDispatcher

pytestmark = pytest.mark.integration
STRICT = "min_confidence: 50\ndefault: {flag: 80, reject: null}\nlabels:\n  Hate Symbols: {flag: 40, reject: 60}\n"


def prefixed_dispatcher(broker_url: str, prefix: str) -> CeleryDispatcher:
    """The API's dispatcher, on this test's own key prefix: no other test's worker can take the job."""
    app = Celery("modq-it", broker=broker_url)
    app.conf.update(broker_transport_options={"global_keyprefix": prefix},
                    task_routes={task: {"queue": queue} for task, queue in ROUTES.items()})
    return CeleryDispatcher(app)


def test_a_worker_runs_the_job_the_api_queued(worker_env, tmp_path):
    prefix = f"reeval-{uuid.uuid4().hex[:6]}:"
    with fresh_database("modq_reeval") as url:
        media = tmp_path / "media"
        media.mkdir()
        settings = Settings(database_url=url, media_root=media, provider="local", sns_topic_arn=None)
        seeding = Runtime(settings, policy.load(settings.thresholds), InMemoryDispatcher(), RecordingPublisher())
        seeding._provider, seeding._leases = (provider := FakeProvider()), LocalLeases()
        ids = [decided_item(seeding, media, provider, "Hate Symbols", c) for c in (70, 65, 55)]  # flagged, all
        api = Runtime(settings, seeding.policy, prefixed_dispatcher(worker_env["MODQ_BROKER_URL"], prefix),
                      RecordingPublisher())
        admin = {"Authorization": f"Bearer {tokens.create(url, 'root', 'admin', created_by='it')[1]}"}
        env = {**worker_env, "MODQ_DATABASE_URL": url, "MODQ_BROKER_KEY_PREFIX": prefix, "MODQ_PROVIDER": "local"}
        proc = WorkerProcess(env, tmp_path / "worker.log", queues="maintenance")
        try:
            with TestClient(create_app(api, health_checks={})) as client:
                put = client.put("/v1/policy?reevaluate=true", headers=admin, json={"yaml": STRICT})
                assert put.status_code == 202, put.text
                status_url = put.headers["location"]

                def finished():
                    job = client.get(status_url, headers=admin).json()
                    return job if job["state"] in ("done", "failed") else None

                job = wait_for(finished, timeout=60, message="the re-evaluation job to finish")
                items = client.get("/v1/items?limit=10", headers=admin).json()["items"]
        finally:
            proc.stop()
    assert (job["state"], job["done"], job["total"], job["errors"], job["runs"]) == ("done", 3, 3, [], 1), \
        proc.output()[-3000:]
    assert job["counts"] == {"examined": 3, "unchanged": 1, "approved": 0, "rejected": 2, "claimed": 0, "alerts": 2}
    assert sorted(i["status"] for i in items if i["id"] in ids) == ["flagged", "rejected", "rejected"]
    assert "modq.reevaluate_policy" in proc.output()
