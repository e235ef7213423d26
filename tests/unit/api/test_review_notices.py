"""A reviewer sees why an item was reported (issue 18.4 review finding): the claim, the verdict's answer and
GET /v1/items/{id} carry the item's notices (explanation, trusted flagger), never the notifier's name or e-mail;
another tenant's reviewer gets the same 404 as for a missing item."""

from __future__ import annotations


import pytest

from moderation.tenants import services as tenants
from tests.transparency_items import IWF, trusted_flaggers  # noqa: F401 (an autouse fixture)

NAME, EMAIL = "Alexandra Notifier", "alexandra.notifier@example.org"
TRUSTED = {"explanation": "Terrorist propaganda <b>video still</b>.", "notifier_name": IWF,
           "notifier_email": "reports@iwf.example", "good_faith": True, "trusted_flagger": True}
USER = {"explanation": "A swastika flag, posted to harass.", "notifier_name": NAME, "notifier_email": EMAIL,
        "good_faith": True}



@pytest.fixture
def reported(client, auth, flagged):
    """An item approved automatically, then reported by a user and by a trusted flagger."""
    item_id = flagged(None, external_id="post-1")
    for body in (USER, TRUSTED):
        filed = client.post("/v1/notices", json={**body, "external_id": "post-1"}, headers=auth["ingest"])
        assert filed.status_code == 201, filed.text
    return item_id


def no_notifier(text: str) -> None:
    for secret in (NAME, EMAIL, IWF, "reports@iwf.example", "notifier_name", "notifier_email", "filed_by",
                   "forum-backend"):
        assert secret not in text


def test_the_claimed_item_carries_its_notices_without_the_notifier(client, auth, reported):
    claimed = client.post("/v1/review/claim", json={"source": "notice"}, headers=auth["reviewer"])
    assert claimed.status_code == 200, claimed.text
    item = claimed.json()["item"]
    assert item["id"] == reported
    assert [(n["explanation"], n["trusted_flagger"], n["csam"], n["state"], n["outcome"]) for n in item["notices"]] == [
        (USER["explanation"], False, False, "open", None), (TRUSTED["explanation"], True, False, "open", None)]
    assert all(n["received_at"].endswith("+00:00") for n in item["notices"])
    no_notifier(claimed.text)


def test_the_verdict_answers_the_notices_and_says_so(client, auth, reported):
    client.post("/v1/review/claim", headers=auth["reviewer"])
    decided = client.post(f"/v1/items/{reported}/review", json={"verdict": "rejected", "reason": "Confirmed."},
                          headers=auth["reviewer"])
    assert decided.status_code == 200, decided.text
    assert [(n["state"], n["outcome"]) for n in decided.json()["notices"]] == [("answered", "rejected")] * 2
    no_notifier(decided.text)


@pytest.mark.parametrize("role", ["reviewer", "admin", "ingest"])
def test_the_item_detail_carries_the_notices_for_every_role(client, auth, reported, role):
    answer = client.get(f"/v1/items/{reported}", headers=auth[role])
    assert answer.status_code == 200, answer.text
    assert [n["trusted_flagger"] for n in answer.json()["notices"]] == [False, True]
    no_notifier(answer.text)


def test_an_item_without_notices_has_an_empty_list(client, auth, flagged):
    item_id = flagged()
    assert client.get(f"/v1/items/{item_id}", headers=auth["reviewer"]).json()["notices"] == []


def test_another_tenants_reviewer_sees_neither_the_item_nor_its_notices(client, rt, auth, token, reported):
    tenants.create(rt.settings.database_url, "other", "test")
    theirs = token("reviewer", "bob", "other")
    answers = [client.get(f"/v1/items/{ref}", headers=theirs) for ref in (reported, "post-1", "no-such-item")]
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert answers[0].json()["message"] == f"no item with id or external_id {reported!r}"
    assert client.post("/v1/review/claim", json={"source": "notice"}, headers=theirs).status_code == 204
    for a in answers:
        assert USER["explanation"] not in a.text and TRUSTED["explanation"] not in a.text


def test_the_openapi_documents_notices_without_the_notifier(client, auth):
    schema = client.get("/openapi.json", headers=auth["reviewer"]).json()["components"]["schemas"]
    assert set(schema["NoticeOut"]["properties"]) == {"id", "explanation", "trusted_flagger", "csam",
                                                      "received_at", "state", "outcome"}
    assert schema["ClaimedWithNotices"]["properties"]["item"]["$ref"].endswith("/ItemWithNotices")


def test_the_console_item_page_lists_the_notices_as_text(client, sign_in, reported):
    sign_in("reviewer")
    page = client.get(f"/items/{reported}")
    assert page.status_code == 200, page.text
    assert "Reported by 2 notices" in page.text
    assert "Terrorist propaganda &lt;b&gt;video still&lt;/b&gt;." in page.text and "<b>video still" not in page.text
    assert page.text.count('class="badge badge-trusted"') == 1
    no_notifier(page.text)


def test_the_console_shows_no_notice_panel_for_an_unreported_item(client, sign_in, flagged):
    sign_in("reviewer")
    assert 'id="notices"' not in client.get(f"/items/{flagged()}").text
