"""GET/PUT /v1/policy (admin): the active policy, applying a version, validation errors as 422.

The deployment's policy (no ?tenant=): its admin here is a token for every tenant ('*'), as existing admin
tokens became (migration 0008); per-tenant policy: test_policy_tenants.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from moderation.domain import policy
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.policy import reevaluations
from moderation.tenants import tokens
from tests.unit.api.conftest import NAMES
from tests.unit.policy.test_policy_versions import STRICT


@pytest.fixture
def auth(rt) -> dict[str, dict[str, str]]:
    """As conftest's, with the admin for every tenant: only such a token changes the deployment's policy."""
    made = {role: tokens.create(rt.settings.database_url, NAMES[role], role, created_by="test",
                                tenant_names=("*",) if role == "admin" else ("default",))[1] for role in NAMES}
    return {role: {"Authorization": f"Bearer {token}"} for role, token in made.items()}


def test_api_get_and_put(client, auth, rt):
    got = client.get("/v1/policy", headers=auth["admin"])
    assert got.status_code == 200 and got.json()["source"] == "file" and got.json()["version"] == rt.policy.version
    assert client.get("/v1/policy", headers=auth["reviewer"]).status_code == 403
    put = client.put("/v1/policy", headers=auth["admin"], json={"yaml": STRICT, "note": "via API"})
    body = put.json()
    assert put.status_code == 200 and body["changed"] and body["source"] == "database"
    assert body["version"] == policy.parse(STRICT).version and body["note"] == "via API" and body["author"]
    assert client.put("/v1/policy", headers=auth["admin"], json={"yaml": STRICT}).json()["changed"] is False
    bad = client.put("/v1/policy", headers=auth["admin"], json={"yaml": "labels:\n  Hate Symbols: {flagg: 3}\n"})
    assert bad.status_code == 422 and "unknown key 'flagg'" in bad.json()["message"]


@pytest.mark.parametrize("body, named", [
    ({"yaml": "labels: [1]"}, "labels: expected a mapping"),
    ({"yaml": "providers: {local: {labels: 3}}"}, "providers.local: labels: expected a mapping"),
    ({"yaml": "providers: {azure: {}}"}, "providers.azure: unknown provider"),
    ({"yaml": "min_confidence: 50\nlabel: {}\n"}, "unknown key 'label'"),
    ({"yaml": "a: \x00"}, "not valid YAML"),
    ({"yaml": STRICT, "note": "nul \x00"}, "note"),
])
def test_put_rejects_bad_input_with_422(client, auth, body, named):
    bad = client.put("/v1/policy", headers=auth["admin"], json=body)
    assert bad.status_code == 422 and named in bad.json()["message"], bad.json()


def test_put_reevaluate_queues_a_job_that_a_worker_runs(client, auth, rt, flagged):
    """?reevaluate=true answers at once (202, the job's status URL); the worker's run shows up in its status."""
    ids = [flagged("Hate Symbols", 70), flagged("Hate Symbols", 55)]  # both flagged under the file's policy
    put = client.put("/v1/policy?reevaluate=true", headers=auth["admin"], json={"yaml": STRICT})
    assert put.status_code == 202, put.text
    job = put.json()["reevaluation"]
    assert put.headers["location"] == job["status_url"] == f"http://testserver/v1/policy/reevaluations/{job['id']}"
    assert (job["state"], job["done"], job["total"], job["version"], job["tenant"]) == (
        "queued", 0, None, policy.parse(STRICT).version, None)
    assert job["actor"].startswith("root (token ")  # the token: its name and id
    assert put.json()["changed"] is True and put.json()["version"] == job["version"]
    assert rt.dispatcher.jobs == [job["id"]] and status_of(rt, ids) == ["flagged", "flagged"]  # nothing ran yet

    reevaluations.run(rt, job["id"])  # what the worker's modq.reevaluate_policy does
    got = client.get(f"/v1/policy/reevaluations/{job['id']}", headers=auth["admin"])
    assert got.status_code == 200, got.text
    done = got.json()
    assert (done["state"], done["done"], done["total"], done["errors"], done["runs"]) == ("done", 2, 2, [], 1)
    assert done["counts"] == {"examined": 2, "unchanged": 1, "approved": 0, "rejected": 1, "claimed": 0, "alerts": 1}
    assert done["finished_at"] and done["status_url"] == job["status_url"]
    with transaction(rt.settings.database_url) as s:
        events = [(e.item_id, e.actor, e.to_status) for e in
                  s.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "reevaluate"))]
    assert events == [(ids[0], job["actor"], "rejected")]


def test_put_without_reevaluate_is_200_and_queues_nothing(client, auth, rt):
    put = client.put("/v1/policy", headers=auth["admin"], json={"yaml": STRICT})
    assert put.status_code == 200 and put.json()["reevaluation"] is None and "location" not in put.headers
    again = client.put("/v1/policy?reevaluate=true", headers=auth["admin"], json={"yaml": STRICT})
    assert again.status_code == 202 and again.json()["changed"] is False  # already active: still re-evaluated
    assert rt.dispatcher.jobs == [again.json()["reevaluation"]["id"]]


def test_an_invalid_policy_queues_no_job(client, auth, rt):
    bad = client.put("/v1/policy?reevaluate=true", headers=auth["admin"], json={"yaml": "labels: [1]"})
    assert bad.status_code == 422 and rt.dispatcher.jobs == []


def test_unknown_job_is_404(client, auth):
    for job_id in ("0e0c4f7e-0000-4000-8000-000000000000", "not-a-job"):
        got = client.get(f"/v1/policy/reevaluations/{job_id}", headers=auth["admin"])
        assert got.status_code == 404 and got.json()["message"] == f"no re-evaluation job {job_id!r}"


@pytest.mark.parametrize("role", ["ingest", "reviewer"])
def test_only_admins_apply_policies_and_see_jobs(client, auth, rt, role):
    job = client.put("/v1/policy?reevaluate=true", headers=auth["admin"], json={"yaml": STRICT}).json()["reevaluation"]
    put = client.put("/v1/policy?reevaluate=true", headers=auth[role], json={"yaml": STRICT})
    assert put.status_code == 403 and "needs admin" in put.json()["message"]
    assert client.get(f"/v1/policy/reevaluations/{job['id']}", headers=auth[role]).status_code == 403
    assert client.get(f"/v1/policy/reevaluations/{job['id']}").status_code == 401
    assert rt.dispatcher.jobs == [job["id"]]


class BrokerDown:
    def reevaluate_policy(self, job_id: str) -> None:
        raise ConnectionError("Error 111 connecting to localhost:6379")


def test_a_job_the_broker_does_not_take_is_503_and_failed(client, auth, rt):
    rt.dispatcher = BrokerDown()
    put = client.put("/v1/policy?reevaluate=true", headers=auth["admin"], json={"yaml": STRICT})
    assert put.status_code == 503
    assert put.json()["message"] == (
        f"the re-evaluation could not be queued (Error 111 connecting to localhost:6379); policy version "
        f"{policy.parse(STRICT).version} is active: apply it again with ?reevaluate=true once the broker is back")
    assert client.get("/v1/policy", headers=auth["admin"]).json()["version"] == policy.parse(STRICT).version


def status_of(rt, ids: list[str]) -> list[str]:
    with transaction(rt.settings.database_url) as s:
        return [s.get(m.Item, i).status for i in ids]
