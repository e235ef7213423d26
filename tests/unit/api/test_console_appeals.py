"""The console's Appeals tab: pending appeals listed; the page shows the decision appealed, its reasons, who
made it and the statement; the reviewer who made it is refused (409, said on the page), another decides."""

from __future__ import annotations

from sqlalchemy import update

from moderation.domain.tenancy import EVERY_TENANT
from moderation.infra.db import transaction
from moderation.review import appeals
from moderation.review.models import Appeal
from moderation.tenants import services as tenants
from tests.unit.review.test_scope import move


def _reviewed_and_appealed(client, rt, auth, flagged) -> tuple[str, str]:
    item_id = flagged()
    assert client.post("/v1/review/claim", headers=auth["reviewer"]).status_code == 200
    done = client.post(f"/v1/items/{item_id}/review", json={"verdict": "rejected", "reason": "swastika"},
                       headers=auth["reviewer"])
    assert done.status_code == 200
    appeal = appeals.file(rt, item_id, "It is a <b>museum</b> photo.", "user-9", "forum (token 1)",
                          scope=EVERY_TENANT)
    return item_id, appeal["id"]


def test_the_original_reviewer_is_refused_and_another_decides_in_the_console(client, rt, auth, flagged, sign_in):
    item_id, appeal_id = _reviewed_and_appealed(client, rt, auth, flagged)
    csrf = sign_in("reviewer", "alice")  # another token of alice's: still alice
    listed = client.get("/appeals")
    assert listed.status_code == 200 and f"/appeals/{appeal_id}" in listed.text
    shown = client.get(f"/appeals/{appeal_id}")
    assert shown.status_code == 200
    assert "It is a &lt;b&gt;museum&lt;/b&gt; photo." in shown.text and "swastika" in shown.text
    assert "alice (token 2)" in shown.text and 'id="appeal-mine"' in shown.text
    refused = client.post(f"/appeals/{appeal_id}/decision",
                          data={"csrf": csrf, "outcome": "upheld", "reason": "I stand by it"})
    assert refused.status_code == 409 and "you made the decision appealed" in refused.text

    csrf = sign_in("reviewer", "bob")
    assert client.post("/appeals/next", data={"csrf": csrf}, follow_redirects=False).headers["location"] == (
        f"/appeals/{appeal_id}")
    no_verdict = client.post(f"/appeals/{appeal_id}/decision",
                             data={"csrf": csrf, "outcome": "overturned", "reason": "museum context"})
    assert no_verdict.status_code == 422 and "museum context" in no_verdict.text  # the reason typed is kept
    done = client.post(f"/appeals/{appeal_id}/decision", follow_redirects=False,
                       data={"csrf": csrf, "outcome": "overturned", "verdict": "approved", "reason": "museum context"})
    assert done.status_code == 303 and done.headers["location"] == "/appeals?notice=decided"
    assert client.get(f"/v1/items/{item_id}", headers=auth["reviewer"]).json()["status"] == "approved"
    assert "No pending appeals." in client.get("/appeals").text
    outcome = client.get(f"/appeals/{appeal_id}").text
    assert "overturned" in outcome and "museum context" in outcome


def test_an_appeal_of_another_tenant_or_none_is_the_missing_page(client, rt, auth, flagged, sign_in):
    item_id, appeal_id = _reviewed_and_appealed(client, rt, auth, flagged)
    forum = tenants.create(rt.settings.database_url, "forum", "test")["id"]
    move(rt, item_id, forum)
    with transaction(rt.settings.database_url) as s:
        s.execute(update(Appeal).where(Appeal.id == appeal_id).values(tenant_id=forum))
    csrf = sign_in("reviewer", "carol")  # a reviewer of the default tenant only
    missing = client.get("/appeals/no-such-appeal")
    foreign = client.get(f"/appeals/{appeal_id}")
    assert missing.status_code == foreign.status_code == 404 and appeal_id not in client.get("/appeals").text
    decided = client.post(f"/appeals/{appeal_id}/decision",
                          data={"csrf": csrf, "outcome": "upheld", "reason": "stands"})
    assert decided.status_code == 404
    assert appeals.get(rt, appeal_id, scope=EVERY_TENANT)["state"] == "pending"
