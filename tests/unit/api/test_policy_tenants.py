"""Per-tenant policy over HTTP (issue 16.2): ``?tenant=`` on GET/PUT /v1/policy, re-evaluation jobs and curves;
a tenant admin acts for its tenant only, the deployment's policy is changed only by a token for every tenant,
and a tenant the token does not act for answers exactly as one that does not exist (404 naming ``tenant``)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from moderation.domain import policy
from moderation.infra.db import transaction
from moderation.policy import reevaluations, versions as policy_store
from moderation.policy.models import PolicyActivation, PolicyVersion
from moderation.tenants import services as tenants, tokens
from tests.unit.policy.test_reevaluate import LENIENT, STRICT
from tests.unit.policy.test_tenant_policy import tenant_item, verdicts

DEPLOYMENT_ONLY = ("tenant: only an admin token for every tenant ('*') may change the deployment's policy; "
                   "give ?tenant=NAME to change one tenant's")


@pytest.fixture
def ids(rt) -> dict[str, int]:
    url = rt.settings.database_url
    return {"default": 1, **{name: tenants.create(url, name, "test")["id"] for name in ("kids", "art")}}


@pytest.fixture
def admins(rt, ids) -> dict[str, dict[str, str]]:
    """Admin tokens: for every tenant ('*'), for kids, for art, for kids and art."""
    scopes = {"star": ["*"], "kids": ["kids"], "art": ["art"], "both": ["kids", "art"]}
    made = {who: tokens.create(rt.settings.database_url, f"admin-{who}", "admin", "test", names)[1]
            for who, names in scopes.items()}
    return {who: {"Authorization": f"Bearer {token}"} for who, token in made.items()}


def stored(rt) -> tuple[int, int]:
    with transaction(rt.settings.database_url) as s:
        return s.scalar(select(func.count()).select_from(PolicyVersion)), \
            s.scalar(select(func.count()).select_from(PolicyActivation))


def test_a_tenant_admin_applies_and_reads_its_tenants_policy(client, admins, rt, ids):
    put = client.put("/v1/policy?tenant=kids", headers=admins["kids"], json={"yaml": STRICT, "note": "kids"})
    body = put.json()
    assert put.status_code == 200, put.text
    assert (body["tenant"], body["inherited"], body["changed"], body["version"], body["source"]) == (
        "kids", False, True, policy.parse(STRICT).version, "database")
    assert body["author"].startswith("admin-kids (token ")
    got = client.get("/v1/policy?tenant=kids", headers=admins["kids"]).json()
    assert (got["version"], got["note"], got["inherited"]) == (policy.parse(STRICT).version, "kids", False)
    # art has no version of its own and the deployment none either: the file decides its items
    art = client.get("/v1/policy?tenant=art", headers=admins["star"]).json()
    assert (art["tenant"], art["inherited"], art["source"], art["version"]) == ("art", True, "file", rt.policy.version)
    deployment = client.get("/v1/policy", headers=admins["kids"]).json()  # readable: it holds no tenant's data
    assert (deployment["tenant"], deployment["version"]) == (None, rt.policy.version)
    assert client.get("/v1/policy?tenant=", headers=admins["kids"]).json() == deployment  # blank: none named
    assert rt.active_policy(ids["kids"]).version == policy.parse(STRICT).version


def test_a_tenant_inherits_the_deployments_policy_until_it_has_its_own(client, admins, rt, ids):
    put = client.put("/v1/policy", headers=admins["star"], json={"yaml": LENIENT})
    assert put.status_code == 200 and put.json()["tenant"] is None
    art = client.get("/v1/policy?tenant=art", headers=admins["art"]).json()
    assert (art["inherited"], art["source"], art["version"]) == (True, "database", policy.parse(LENIENT).version)
    client.put("/v1/policy?tenant=art", headers=admins["art"], json={"yaml": STRICT})
    assert client.get("/v1/policy?tenant=art", headers=admins["art"]).json()["inherited"] is False


def test_only_a_token_for_every_tenant_changes_the_deployments_policy(client, admins, rt):
    before = stored(rt)
    for who in ("kids", "both"):
        put = client.put("/v1/policy", headers=admins[who], json={"yaml": STRICT})
        assert (put.status_code, put.json()["message"]) == (403, DEPLOYMENT_ONLY)
    assert stored(rt) == before and rt.dispatcher.jobs == []


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_another_tenants_policy_is_not_found_like_a_tenant_that_does_not_exist(client, admins, rt, method):
    before = stored(rt)
    answers = [client.request(method, f"/v1/policy?tenant={name}", headers=admins["kids"], json={"yaml": STRICT})
               for name in ("art", "nosuch")]
    assert [(a.status_code, a.json()["message"]) for a in answers] == [
        (404, "tenant: no tenant named 'art' that this token acts for"),
        (404, "tenant: no tenant named 'nosuch' that this token acts for")]
    assert stored(rt) == before


def test_a_tenants_reevaluation_walks_its_items_and_only_its_admins_see_it(
        client, admins, rt, ids, media_root, fake_provider):
    items = {name: tenant_item(rt, media_root, fake_provider, tid) for name, tid in ids.items()}  # all flagged
    put = client.put("/v1/policy?tenant=kids&reevaluate=true", headers=admins["kids"], json={"yaml": STRICT})
    assert put.status_code == 202, put.text
    job = put.json()["reevaluation"]
    assert job["tenant"] == "kids" and rt.dispatcher.jobs == [job["id"]]
    reevaluations.run(rt, job["id"])
    url = f"/v1/policy/reevaluations/{job['id']}"
    for who, status in (("kids", 200), ("both", 200), ("star", 200), ("art", 404)):
        assert client.get(url, headers=admins[who]).status_code == status, who
    done = client.get(url, headers=admins["kids"]).json()
    assert (done["state"], done["counts"]["examined"], done["counts"]["rejected"]) == ("done", 1, 1)
    assert [v for v, _ in verdicts(rt, items.values())] == ["flagged", "rejected", "flagged"]
    deployment = client.put("/v1/policy?reevaluate=true", headers=admins["star"], json={"yaml": STRICT}).json()
    hidden = client.get(f"/v1/policy/reevaluations/{deployment['reevaluation']['id']}", headers=admins["kids"])
    assert hidden.status_code == 404  # the deployment's job: for a token for every tenant


def test_curves_are_per_tenant(client, admins, rt, ids):
    client.put("/v1/policy?tenant=kids", headers=admins["kids"], json={"yaml": STRICT})
    mine = client.get("/v1/policy/curves", headers=admins["kids"])  # a token for one tenant: its own
    assert mine.status_code == 200 and mine.json()["version"] == policy.parse(STRICT).version
    named = client.get("/v1/policy/curves?tenant=kids", headers=admins["both"]).json()
    assert (named["tenant"], named["version"]) == ("kids", policy.parse(STRICT).version)
    assert client.get("/v1/policy/curves", headers=admins["star"]).json()["version"] == rt.policy.version
    several = client.get("/v1/policy/curves", headers=admins["both"])
    assert (several.status_code, several.json()["message"]) == (
        422, "tenant: this token acts for several tenants: name one with ?tenant=NAME")
    other = client.get("/v1/policy/curves?tenant=art", headers=admins["kids"])
    assert (other.status_code, other.json()["message"]) == (404, "tenant: no tenant named 'art' that this token acts for")


def test_while_there_is_one_tenant_its_admin_changes_the_deployments_policy(client, auth, rt):
    """As before tenants: the admin of the only tenant applies and follows the deployment's policy; once a
    second tenant exists, that takes a token for every tenant."""
    put = client.put("/v1/policy?reevaluate=true", headers=auth["admin"], json={"yaml": STRICT})
    assert put.status_code == 202 and put.json()["tenant"] is None, put.text
    job = put.json()["reevaluation"]
    assert client.get(f"/v1/policy/reevaluations/{job['id']}", headers=auth["admin"]).status_code == 200
    tenants.create(rt.settings.database_url, "second", "test")
    again = client.put("/v1/policy", headers=auth["admin"], json={"yaml": LENIENT})
    assert (again.status_code, again.json()["message"]) == (403, DEPLOYMENT_ONLY)
    assert client.get(f"/v1/policy/reevaluations/{job['id']}", headers=auth["admin"]).status_code == 404


def test_the_tuning_page_is_per_tenant(client, sign_in, rt, ids):
    """The console's admin (a token for default) sees default's policy, names it in the curves' URL when asked
    for it, and gets 404 for another tenant's."""
    policy_store.apply(rt.settings.database_url, STRICT, author="test", tenant_id=ids["default"])
    sign_in("admin")
    page = client.get("/tuning")
    assert page.status_code == 200 and f"policy {policy.parse(STRICT).version}" in page.text
    named = client.get("/tuning?tenant=default")
    assert "tenant default, policy" in named.text and "tenant=default" in named.text
    assert client.get("/tuning/curves?tenant=default").json()["tenant"] == "default"
    assert client.get("/tuning/curves?tenant=kids").status_code == 404
