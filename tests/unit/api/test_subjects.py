"""subject_id through the API (submit, batch, item detail) and GET /v1/subjects/{subject_id}, tenant-scoped."""

from __future__ import annotations

import hashlib

import pytest

from moderation.items import services as service
from moderation.tenants import services as tenant_services
from moderation.tenants import tokens
from tests.conftest import jpeg_bytes
from tests.fakes.providers import labels_for


@pytest.fixture
def other(rt) -> int:
    return tenant_services.create(rt.settings.database_url, "other", "test")["id"]


def bearer(rt, role: str, *tenant_names: str) -> dict[str, str]:
    token = tokens.create(rt.settings.database_url, f"{role}-{'-'.join(tenant_names)}", role, "test",
                          tenant_names=tenant_names)[1]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def media(media_root, fake_provider):
    def write(name: str, label: str | None = None, n: int = 0) -> str:
        data = jpeg_bytes(width=120 + n, color=(n, 40, 80))
        (media_root / name).write_bytes(data)
        if label:
            fake_provider.by_key[hashlib.sha256(data).hexdigest()] = labels_for(label, 95)
        return name

    return write


def submit(client, headers, rt, external_id: str, uri: str, subject: str | None = "user-7", tenant: str = ""):
    body = {"external_id": external_id, "media_uri": uri, **({"subject_id": subject} if subject else {})}
    response = client.post("/v1/items" + (f"?tenant={tenant}" if tenant else ""), json=body, headers=headers)
    assert response.status_code == 202, response.text
    service.process_image(response.json()["id"], rt=rt)
    return response.json()["id"]


def test_submit_stores_the_subject_and_the_item_detail_shows_it(client, auth, rt, media):
    item_id = submit(client, auth["ingest"], rt, "p-1", media("a.jpg"))
    assert client.get(f"/v1/items/{item_id}", headers=auth["ingest"]).json()["subject_id"] == "user-7"
    plain = submit(client, auth["ingest"], rt, "p-2", media("b.jpg", n=1), subject=None)
    assert client.get(f"/v1/items/{plain}", headers=auth["reviewer"]).json()["subject_id"] is None


def test_a_batch_item_carries_its_subject_and_a_bad_one_is_refused_alone(client, auth, rt, media):
    items = [{"external_id": "b-1", "media_uri": media("a.jpg"), "subject_id": "user-7"},
             {"external_id": "b-2", "media_uri": media("b.jpg", n=1), "subject_id": "bell\x07"},
             {"external_id": "b-3", "media_uri": media("c.jpg", n=2), "subject_id": "u" * 256}]
    results = client.post("/v1/items/batch", json={"items": items}, headers=auth["ingest"]).json()["results"]
    assert [r["created"] for r in results] == [True, False, False]
    assert results[1]["error"] == "subject_id: Value error, must not contain control characters"
    assert results[2]["error"] == "subject_id: String should have at most 255 characters"
    detail = client.get(f"/v1/items/{results[0]['id']}", headers=auth["reviewer"]).json()
    assert detail["subject_id"] == "user-7"


def test_the_subject_history(client, auth, rt, media):
    rejected = submit(client, auth["ingest"], rt, "p-1", media("a.jpg", "Hate Symbols"))
    approved = submit(client, auth["ingest"], rt, "p-2", media("b.jpg", n=1))
    submit(client, auth["ingest"], rt, "p-3", media("c.jpg", n=2), subject="someone-else")

    response = client.get("/v1/subjects/user-7", headers=auth["reviewer"])

    assert response.status_code == 200, response.text
    view = response.json()
    assert (view["subject_id"], view["tenant"], view["items"]) == ("user-7", "default", 2)
    assert view["counts"] == {"approved": 1, "flagged": 0, "rejected": 1, "failed": 0, "pending": 0}
    assert {r["id"] for r in view["latest"]} == {rejected, approved} and view["flag"] is None
    assert {r["external_id"] for r in view["latest"]} == {"p-1", "p-2"}
    assert view["first_submitted_at"] <= view["last_submitted_at"]
    assert client.get("/v1/subjects/user-7", headers=auth["ingest"]).status_code == 403
    assert client.get("/v1/subjects/nobody", headers=auth["reviewer"]).status_code == 404


def test_another_tenants_token_sees_nothing_of_a_subject(client, auth, rt, media, other):
    submit(client, auth["ingest"], rt, "p-1", media("a.jpg"))
    theirs = client.get("/v1/subjects/user-7", headers=bearer(rt, "reviewer", "other"))
    assert theirs.status_code == 404
    never = client.get("/v1/subjects/never-seen", headers=auth["reviewer"]).json()["message"]
    assert theirs.json()["message"] == never.replace("never-seen", "user-7")  # as if it had never uploaded
    assert client.get("/v1/subjects/user-7?tenant=default",
                      headers=bearer(rt, "reviewer", "other")).status_code == 422  # not a tenant it acts for


def test_a_token_for_several_tenants_names_one(client, auth, rt, media, other):
    submit(client, auth["ingest"], rt, "p-1", media("a.jpg"))
    submit(client, bearer(rt, "ingest", "other"), rt, "p-1", media("b.jpg", n=1))  # the same subject id there
    both = bearer(rt, "admin", "default", "other")
    assert client.get("/v1/subjects/user-7", headers=both).json()["message"].startswith("tenant: this token acts "
                                                                                         "for several tenants")
    view = client.get("/v1/subjects/user-7?tenant=other", headers=both).json()
    assert (view["tenant"], view["items"]) == ("other", 1)
