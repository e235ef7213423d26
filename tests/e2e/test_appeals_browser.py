"""An appeal end to end in headless Chromium (issue 17.7): filed by the platform over HTTP, refused to the
reviewer who made the decision (in the console and over the API), decided by another reviewer in the
console's Appeals tab, and the `appeal` event in the outbox. Screenshots go to test-artifacts/."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from moderation.alerts.models import Alert
from moderation.api.app import create_app
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.tenants import tokens
from tests.e2e.conftest import screenshot, sign_in, watched_page
from tests.live_server import serve
from tests.review_items import decided_item

pytestmark = pytest.mark.e2e


def test_an_appeal_filed_by_api_refused_to_the_original_reviewer_and_decided_by_another(rt, media_root,
                                                                                         fake_provider, browser):
    item_id = decided_item(rt, media_root, fake_provider, "Hate Symbols", 70, external_id="post-7")
    url = rt.settings.database_url
    _, ingest = tokens.create(url, "forum-backend", "ingest", created_by="test")
    alice_id, alice = tokens.create(url, "alice", "reviewer", created_by="test")
    _, bob = tokens.create(url, "bob", "reviewer", created_by="test")
    with serve(create_app(rt, health_checks={})) as base_url:
        api = httpx.Client(base_url=base_url, timeout=10)
        as_alice = {"Authorization": f"Bearer {alice}"}
        assert api.post("/v1/review/claim", headers=as_alice).json()["item"]["id"] == item_id
        assert api.post(f"/v1/items/{item_id}/review", headers=as_alice,
                        json={"verdict": "rejected", "reason": "hate symbol on the flag"}).status_code == 200
        filed = api.post(f"/v1/items/{item_id}/appeals", headers={"Authorization": f"Bearer {ingest}"},
                         json={"statement": "This is a photo of a museum exhibit about the war.",
                               "appellant": "user-4821"})
        assert filed.status_code == 201, filed.text
        appeal_id = filed.json()["id"]

        # alice made the decision: the console shows the appeal, says why she cannot decide, offers no form
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page, errors = watched_page(context)
        page.goto(base_url + "/login")
        sign_in(page, base_url, alice)
        page.click("nav a[href='/appeals']")
        page.wait_for_url("**/appeals")
        assert page.locator("#appeals tbody tr").count() == 1
        assert "(you)" in page.locator("#appeals tbody tr").inner_text()
        page.click(f"a[href='/appeals/{appeal_id}']")
        page.wait_for_url(f"**/appeals/{appeal_id}")
        assert "another reviewer must decide" in page.locator("#appeal-mine").inner_text()
        assert page.locator("#appeal-form").count() == 0
        screenshot(page, "console-appeal-refused", full_page=True)
        refused = api.post(f"/v1/appeals/{appeal_id}/decision", headers=as_alice,
                           json={"outcome": "upheld", "reason": "I stand by it"})
        assert refused.status_code == 409 and "you made the decision appealed" in refused.json()["message"]
        assert errors == []
        context.close()

        # bob claims it from the Appeals tab and overturns it
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page, errors = watched_page(context)
        page.goto(base_url + "/login")
        sign_in(page, base_url, bob)
        page.goto(base_url + "/appeals")
        screenshot(page, "console-appeals", full_page=True)
        page.click("#next-appeal-form button[type=submit]")
        page.wait_for_url(f"**/appeals/{appeal_id}")
        assert page.locator("#statement").inner_text() == "This is a photo of a museum exhibit about the war."
        assert page.locator("#original-by").inner_text() == f"alice (token {alice_id})"
        assert page.locator("#original-reasons").inner_text() == "hate symbol on the flag"
        page.check("input[name=outcome][value=overturned]")
        page.select_option("select[name=verdict]", "approved")
        page.fill("textarea[name=reason]", "historical context, educational")
        screenshot(page, "console-appeal", full_page=True)
        page.click("#appeal-submit")
        page.wait_for_url("**/appeals?notice=decided")
        assert page.locator("#appeal-decided").is_visible() and page.locator("#appeals").count() == 0
        assert errors == []
        context.close()

        item = api.get(f"/v1/items/{item_id}", headers={"Authorization": f"Bearer {ingest}"}).json()
        assert item["status"] == "approved"
        assert [(a["outcome"], a["new_verdict"]) for a in item["appeals"]] == [("overturned", "approved")]
    with transaction(url) as s:
        alert = s.scalars(select(Alert).where(Alert.item_id == item_id, Alert.kind == "appeal")).one()
        assert alert.attributes["kind"] == "appeal" and alert.message["outcome"] == "overturned"
        assert alert.message["appeal_id"] == appeal_id and alert.message["verdict"] == "approved"
        actions = list(s.scalars(select(m.AuditEvent.action).where(m.AuditEvent.item_id == item_id)
                                 .order_by(m.AuditEvent.id)))
        assert actions[-2:] == ["appeal", "appeal_decide"]
