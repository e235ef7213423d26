"""Two tenants on one deployment (issue 16), end to end: the HTTP API on PostgreSQL, the real Redis broker, a
real Celery worker and the fake Rekognition server.

Two tenants, an ingest token and a reviewer token each (``two_tenants``, built once for the module): the same
external_id in both makes two items; each token gets 404 on the other tenant's item, list and audit; the
squatting attack (one tenant pre-registering another's external_id) no longer works; each tenant's policy
(``PUT /v1/policy?tenant=``, by that tenant's admin) decides its own items.

Extending it: ``two_tenants`` is a ``Platforms``; ``platforms.submit(tenant, external_id, labels)`` submits
through the API with that tenant's ingest token, and ``platforms.decided(ids)`` waits for the worker.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient

from moderation.api.app import create_app
from moderation.tenants import services as tenant_services
from moderation.tenants import tokens
from tests.fakes.providers import labels_for
from tests.integration.conftest import wait_terminal

pytestmark = pytest.mark.integration
BUCKET = "ugc-uploads"


def rek_labels(name: str, confidence: float) -> list[dict]:
    return [lab.to_dict() for lab in labels_for(name, confidence)]


FLAGGED = rek_labels("Nazi Party", 72)  # flagged by the deployment's default policy
CLEAN: list[dict] = []


@dataclass
class Platforms:
    """Two tenants, their tokens' headers, and an API client on the integration runtime."""

    client: TestClient
    rt: object
    names: tuple[str, str]
    ingest: dict[str, dict[str, str]] = field(default_factory=dict)
    reviewer: dict[str, dict[str, str]] = field(default_factory=dict)
    token_ids: dict[str, int] = field(default_factory=dict)  # "<tenant>:<role>" -> token id

    def other(self, tenant: str) -> str:
        return self.names[1] if tenant == self.names[0] else self.names[0]

    def submit(self, rekognition, tenant: str, external_id: str, labels: list[dict]) -> dict:
        """POST /v1/items with ``tenant``'s ingest token, for a new S3 object the fake sees ``labels`` in."""
        key = f"tenants-{uuid.uuid4().hex[:8]}/{external_id}.jpg"
        rekognition.add_s3_object(BUCKET, key, labels=labels)
        response = self.client.post("/v1/items", json={"external_id": external_id, "media_uri": f"s3://{BUCKET}/{key}"},
                                    headers=self.ingest[tenant])
        assert response.status_code in (200, 202), response.text
        return response.json()

    def decided(self, ids: list[str]) -> dict:
        return wait_terminal(self.rt.settings.database_url, ids)


@pytest.fixture(scope="module")
def two_tenants(it_runtime, worker) -> Platforms:
    url = it_runtime.settings.database_url
    run = uuid.uuid4().hex[:6]  # the session's database is shared by every module
    names = (f"kids-{run}", f"art-{run}")
    with TestClient(create_app(it_runtime, health_checks={})) as client:
        platforms = Platforms(client, it_runtime, names)
        for name in names:
            tenant_services.create(url, name, "test")
            for role, headers in (("ingest", platforms.ingest), ("reviewer", platforms.reviewer)):
                token_id, secret = tokens.create(url, f"{name}-{role}", role, "test", tenant_names=[name])
                headers[name] = {"Authorization": f"Bearer {secret}"}
                platforms.token_ids[f"{name}:{role}"] = token_id
        yield platforms


def test_the_same_external_id_in_both_tenants_makes_two_items(two_tenants, rekognition):
    p, (kids, art) = two_tenants, two_tenants.names
    external_id = f"post-{uuid.uuid4().hex[:6]}"
    first = p.submit(rekognition, kids, external_id, FLAGGED)
    second = p.submit(rekognition, art, external_id, CLEAN)
    assert first["created"] and second["created"] and first["id"] != second["id"]
    rows = p.decided([first["id"], second["id"]])
    assert (rows[first["id"]].status, rows[second["id"]].status) == ("flagged", "approved")
    for tenant, mine in ((kids, first), (art, second)):
        for headers in (p.ingest[tenant], p.reviewer[tenant]):
            assert p.client.get(f"/v1/items/{external_id}", headers=headers).json()["id"] == mine["id"]
    submit_event = p.client.get(f"/v1/audit?item_id={first['id']}&action=submit", headers=p.reviewer[kids]).json()
    assert [e["actor"] for e in submit_event["events"]] == [f"{kids}-ingest (token {p.token_ids[kids + ':ingest']})"]


@pytest.mark.parametrize("role", ["ingest", "reviewer"])
def test_each_token_gets_404_on_the_other_tenants_item_list_and_audit(two_tenants, rekognition, role):
    p = two_tenants
    items = {t: p.submit(rekognition, t, f"{t}-own-{uuid.uuid4().hex[:6]}", FLAGGED) for t in p.names}
    p.decided([i["id"] for i in items.values()])
    for tenant in p.names:
        headers = (p.ingest if role == "ingest" else p.reviewer)[tenant]
        theirs = items[p.other(tenant)]
        missing = p.client.get("/v1/items/no-such-item", headers=headers)
        for ref in (theirs["id"], theirs["external_id"]):
            answer = p.client.get(f"/v1/items/{ref}", headers=headers)
            assert answer.status_code == missing.status_code == 404
            assert answer.json()["message"] == missing.json()["message"].replace("no-such-item", ref)
        listed = p.client.get("/v1/items?limit=200", headers=headers).json()["items"]
        assert items[tenant]["id"] in {i["id"] for i in listed} and theirs["id"] not in {i["id"] for i in listed}
        assert p.client.get(f"/v1/items?external_id={theirs['external_id']}", headers=headers).json()["items"] == []
        if role == "reviewer":  # the audit trail and media are for reviewers
            assert p.client.get(f"/v1/audit?item_id={theirs['id']}", headers=headers).status_code == 404
            assert p.client.get(f"/v1/items/{theirs['id']}/media", headers=headers).status_code == 404
            trail = p.client.get("/v1/audit?limit=10000", headers=headers).json()["events"]
            assert theirs["id"] not in {e["item_id"] for e in trail}
            assert items[tenant]["id"] in {e["item_id"] for e in trail}
        else:
            assert p.client.get(f"/v1/audit?item_id={theirs['id']}", headers=headers).status_code == 403  # role


def test_the_squatting_attack_no_longer_works(two_tenants, rekognition):
    """art pre-registers kids' external_id with harmless media; kids' real submit gets its own item, and the
    worker moderates its media."""
    p, (kids, art) = two_tenants, two_tenants.names
    external_id = f"kids-upload-{uuid.uuid4().hex[:6]}"
    squat = p.submit(rekognition, art, external_id, CLEAN)
    p.decided([squat["id"]])
    real = p.submit(rekognition, kids, external_id, FLAGGED)
    assert real["created"] is True and real["status"] == "queued" and real["id"] != squat["id"]
    rows = p.decided([real["id"]])
    assert rows[real["id"]].status == "flagged"
    view = p.client.get(f"/v1/items/{external_id}", headers=p.reviewer[kids]).json()
    assert view["id"] == real["id"] and view["verdict"] == "flagged" and view["labels"]
    assert p.client.get(f"/v1/items/{external_id}", headers=p.reviewer[art]).json()["id"] == squat["id"]


# Under config/thresholds.yaml Hate Symbols is flag 50 / reject 90: FLAGGED's 72 is flagged.
STRICT = "min_confidence: 50\ndefault: {flag: 80, reject: null}\nlabels:\n  Hate Symbols: {flag: 40, reject: 60}\n"
LENIENT = "min_confidence: 50\ndefault: {flag: 80, reject: null}\nlabels:\n  Hate Symbols: {flag: 90, reject: null}\n"


def test_each_tenants_policy_decides_its_own_items(two_tenants, rekognition):
    """kids applies a strict policy and art a lenient one, each with its own admin token; the worker decides
    the same labels in each tenant under that tenant's version, and records it. Neither admin sees the other's."""
    p, (kids, art) = two_tenants, two_tenants.names
    url = p.rt.settings.database_url
    admin = {t: {"Authorization": f"Bearer {tokens.create(url, f'{t}-admin', 'admin', 'test', tenant_names=[t])[1]}"}
             for t in p.names}
    versions = {}
    for tenant, text in ((kids, STRICT), (art, LENIENT)):
        put = p.client.put(f"/v1/policy?tenant={tenant}", json={"yaml": text, "note": "its own"},
                           headers=admin[tenant])
        assert put.status_code == 200 and put.json()["tenant"] == tenant, put.text
        versions[tenant] = put.json()["version"]
        other = p.client.get(f"/v1/policy?tenant={p.other(tenant)}", headers=admin[tenant])
        assert other.status_code == 404
    expected = {kids: ("rejected", versions[kids]), art: ("approved", versions[art])}
    deadline = time.monotonic() + 60  # the worker re-reads policies every MODQ_POLICY_REFRESH_SECONDS (10 s)
    while True:
        ids = {t: p.submit(rekognition, t, f"{t}-policy-{uuid.uuid4().hex[:6]}", FLAGGED)["id"] for t in p.names}
        rows = p.decided(list(ids.values()))
        got = {t: (rows[i].status, rows[i].policy_version) for t, i in ids.items()}
        if got == expected or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert got == expected
    for tenant, item_id in ids.items():
        view = p.client.get(f"/v1/items/{item_id}", headers=p.reviewer[tenant]).json()
        assert (view["verdict"], view["policy_version"]) == expected[tenant]
