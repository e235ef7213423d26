"""DELETE /v1/subjects/{subject_id} and DELETE /v1/items/{id}/personal-data (issue 19.2): admin of the tenant
only; another tenant's admin gets the 404 a missing subject gets; bad ids are 422 with nothing changed."""

from __future__ import annotations

import pytest

from moderation.api.app import create_app
from moderation.domain.tenancy import DEFAULT_TENANT_ID
from moderation.items import models as m
from moderation.ops import health
from moderation.tenants import services as tenants
from tests.erasure_items import HOLD_REASON, rows, rule_runtime, scan, seed


@pytest.fixture
def rrt(rt, fake_provider):
    return rule_runtime(rt.settings, fake_provider)


@pytest.fixture
def app(rrt):  # the API over the runtime whose policy flags subjects
    return create_app(rrt, health_checks={"database": health.database, "broker": lambda _rt: None})


@pytest.fixture
def seeded(rrt):
    return seed(rrt, DEFAULT_TENANT_ID)


def untouched(rrt, seeded) -> set:
    return scan(rrt, [seeded.subject, *seeded.personal("approved", "rejected")])


def test_an_admin_erases_a_subject_and_gets_the_report(client, auth, rrt, seeded):
    response = client.delete(f"/v1/subjects/{seeded.subject}", headers=auth["admin"])

    assert response.status_code == 200, response.text
    report = response.json()
    assert len(report["erased"]) == 6 and report["pending"] == [seeded.items["processing"]]
    assert report["held"] == [{"item_id": seeded.items["held"], "reason": HOLD_REASON}]
    assert scan(rrt, seeded.personal("approved", "rejected")) == set()
    summary = [e for e in rows(rrt, m.AuditEvent, m.AuditEvent.item_id.is_(None))
               if e.action == m.AuditAction.ERASE]
    assert len(summary) == 1 and summary[0].actor.startswith("root (token ")
    # the subject is gone but for its held item: a second request finds that one, and erases nothing more
    again = client.delete(f"/v1/subjects/{seeded.subject}?tenant=default", headers=auth["admin"]).json()
    assert again == {"erased": [], "held": report["held"], "pending": []}


def test_another_tenants_admin_gets_404_like_a_missing_subject(client, token, auth, rrt, seeded):
    tenants.create(rrt.settings.database_url, "other", "test")
    theirs = token("admin", "other-admin", "other")
    before = untouched(rrt, seeded)

    for url in (f"/v1/subjects/{seeded.subject}", f"/v1/subjects/{seeded.subject}?tenant=default",
                f"/v1/items/{seeded.items['approved']}/personal-data",
                f"/v1/items/{seeded.items['approved']}/personal-data?tenant=default"):
        response = client.delete(url, headers=theirs)
        assert response.status_code == 404, (url, response.text)
    missing = client.delete("/v1/subjects/nobody", headers=auth["admin"])
    assert missing.status_code == 404
    assert client.delete("/v1/items/no-such-item/personal-data", headers=auth["admin"]).status_code == 404
    assert untouched(rrt, seeded) == before


def test_only_an_admin_may_erase(client, auth, token, rrt, seeded):
    before = untouched(rrt, seeded)
    for headers, status in ((auth["reviewer"], 403), (auth["ingest"], 403), (token("senior", "sen"), 403),
                            ({}, 401)):
        assert client.delete(f"/v1/subjects/{seeded.subject}", headers=headers).status_code == status
        assert client.delete(f"/v1/items/{seeded.items['approved']}/personal-data",
                             headers=headers).status_code == status
    assert untouched(rrt, seeded) == before


@pytest.mark.parametrize("bad", ["bell%07", "u" * 256, "nul%00"])
def test_a_bad_subject_id_is_422_and_nothing_changes(client, auth, rrt, seeded, bad):
    before = untouched(rrt, seeded)
    response = client.delete(f"/v1/subjects/{bad}", headers=auth["admin"])
    assert response.status_code == 422, response.text
    assert "subject_id" in response.text
    assert untouched(rrt, seeded) == before
    assert [e for e in rows(rrt, m.AuditEvent) if e.action == m.AuditAction.ERASE] == []


def test_an_admin_erases_one_item(client, auth, rrt, seeded):
    approved = seeded.items["approved"]
    response = client.delete(f"/v1/items/{approved}/personal-data", headers=auth["admin"])
    assert response.status_code == 200, response.text
    assert response.json() == {"erased": [approved], "held": [], "pending": []}
    assert scan(rrt, seeded.personal("approved")) == set()
    assert {v for v, _, _ in scan(rrt, seeded.personal("rejected"))} == set(seeded.personal("rejected"))
    held = client.delete(f"/v1/items/{seeded.items['held']}/personal-data", headers=auth["admin"]).json()
    assert held["held"] == [{"item_id": seeded.items["held"], "reason": HOLD_REASON}]
    assert client.delete(f"/v1/items/{'x' * 65}/personal-data", headers=auth["admin"]).status_code == 422
