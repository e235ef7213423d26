"""GET/PUT /v1/policy (admin): the active policy, applying a version, validation errors as 422."""

from __future__ import annotations

import pytest

from moderation.domain import policy
from tests.unit.policy.test_policy_versions import STRICT


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


def test_put_reevaluate_redecides_flagged_items(client, auth, rt, flagged):
    from sqlalchemy import select

    from moderation.items import models as m
    from moderation.infra.db import transaction

    ids = [flagged("Hate Symbols", 70), flagged("Hate Symbols", 55)]  # both flagged under the file's policy
    put = client.put("/v1/policy?reevaluate=true", headers=auth["admin"], json={"yaml": STRICT})
    assert put.status_code == 200, put.text
    assert put.json()["reevaluated"] == {"version": policy.parse(STRICT).version, "examined": 2, "unchanged": 1,
                                         "approved": 0, "rejected": 1, "claimed": 0, "alerts": 1}
    with transaction(rt.settings.database_url) as s:
        events = [(e.item_id, e.actor, e.to_status) for e in
                  s.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "reevaluate"))]
    assert events == [(ids[0], "root", "rejected")]
    again = client.put("/v1/policy?reevaluate=true", headers=auth["admin"], json={"yaml": STRICT}).json()
    assert again["changed"] is False and again["reevaluated"]["rejected"] == 0
    assert client.put("/v1/policy", headers=auth["admin"], json={"yaml": STRICT}).json()["reevaluated"] is None
