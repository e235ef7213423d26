"""The console's reason codes and escalation (issue 17.6), without a browser: the select offers the fired
categories' codes first, the Escalate form sends the item up (CSRF, bad notes kept off), the Escalated tab and
page are a senior's, a reviewer cannot claim an escalated item, the code chosen is recorded."""

from __future__ import annotations

import re

from sqlalchemy import select

from moderation.infra.db import transaction
from moderation.review.models import Escalation, Review

NOTE = "Looks like a <b>minor</b>: senior please."


def claim(client, csrf: str, item_id: str):
    return client.post(f"/items/{item_id}/claim", data={"csrf": csrf}, follow_redirects=False)


def escalations(rt, item_id: str) -> list[Escalation]:
    with transaction(rt.settings.database_url) as s:
        return list(s.scalars(select(Escalation).where(Escalation.item_id == item_id)))


def test_the_review_form_offers_the_fired_categories_codes_first(client, flagged, sign_in):
    item_id = flagged("Hate Symbols")
    csrf = sign_in("reviewer", "alice")
    claim(client, csrf, item_id)
    page = client.get(f"/items/{item_id}").text
    select_ = re.search(r'<select id="reason-code" name="reason_code">(.*?)</select>', page, re.S).group(1)
    groups = re.findall(r'<optgroup label="([^"]+)">', select_)
    assert groups == ["Hate Symbols", "Other categories"]
    first = re.findall(r'value="([^"]*)"', select_)
    assert first[:4] == ["", "hate-symbol", "extremist-propaganda", "educational-context"]
    assert "gore" in first and len(first) == len(set(first))  # every other code, once
    assert 'id="escalate-form"' in page


def test_the_code_chosen_in_the_console_is_recorded_and_a_bad_one_is_refused(client, rt, flagged, sign_in):
    item_id = flagged()
    csrf = sign_in("reviewer", "alice")
    claim(client, csrf, item_id)
    bad = client.post(f"/items/{item_id}/review", data={"csrf": csrf, "verdict": "rejected", "reason": "swastika",
                                                        "reason_code": "nope"})
    assert bad.status_code == 422 and "reason_code: unknown code" in bad.text
    done = client.post(f"/items/{item_id}/review", follow_redirects=False,
                       data={"csrf": csrf, "verdict": "rejected", "reason": "swastika", "reason_code": "hate-symbol"})
    assert done.status_code == 303
    with transaction(rt.settings.database_url) as s:
        assert s.scalar(select(Review.reason_code).where(Review.item_id == item_id)) == "hate-symbol"
    assert 'id="review-code">hate-symbol<' in client.get(f"/items/{item_id}").text


def test_escalating_needs_the_csrf_token_and_a_note(client, rt, flagged, sign_in):
    item_id = flagged()
    csrf = sign_in("reviewer", "alice")
    claim(client, csrf, item_id)
    stale = client.post(f"/items/{item_id}/escalate", data={"csrf": "stale", "note": NOTE})
    assert stale.status_code == 403
    empty = client.post(f"/items/{item_id}/escalate", data={"csrf": csrf, "note": "  "})
    assert empty.status_code == 422 and "note: say why" in empty.text
    long = client.post(f"/items/{item_id}/escalate", data={"csrf": csrf, "note": "x" * 1001})
    assert long.status_code == 422 and "at most 1000" in long.text
    assert escalations(rt, item_id) == []


def test_a_reviewer_escalates_then_sees_it_escalated_and_cannot_claim_it_again(client, rt, flagged, sign_in):
    item_id = flagged()
    csrf = sign_in("reviewer", "alice")
    claim(client, csrf, item_id)
    sent = client.post(f"/items/{item_id}/escalate", data={"csrf": csrf, "note": NOTE}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == f"/items/{item_id}"
    page = client.get(f"/items/{item_id}").text
    assert 'id="escalation"' in page and "Looks like a &lt;b&gt;minor&lt;/b&gt;" in page  # escaped
    assert "A senior reviewer or an admin decides it." in page and 'id="escalate-form"' not in page
    refused = claim(client, csrf, item_id)
    assert refused.status_code == 403 and "escalated: a senior reviewer" in refused.text
    assert client.get("/escalated").status_code == 403
    assert 'id="nav-escalated"' not in client.get("/").text  # no tab for a reviewer
    assert client.post("/escalated/next", data={"csrf": csrf}).status_code == 403


def test_a_senior_sees_the_tab_and_page_claims_and_decides(client, rt, flagged, sign_in):
    item_id = flagged()
    csrf = sign_in("reviewer", "alice")
    claim(client, csrf, item_id)
    client.post(f"/items/{item_id}/escalate", data={"csrf": csrf, "note": NOTE})
    csrf = sign_in("senior", "sam")
    queue = client.get("/").text
    assert re.search(r'id="nav-escalated">Escalated \(<span id="escalated-count">1</span>\)', queue)
    page = client.get("/escalated").text
    assert f'data-item="{item_id}"' in page and "Looks like a &lt;b&gt;minor&lt;/b&gt;" in page
    assert 'data-category="Hate Symbols / Violence"' in page
    opened = client.post("/escalated/next", data={"csrf": csrf}, follow_redirects=False)
    assert opened.headers["location"] == f"/items/{item_id}"
    shown = client.get(f"/items/{item_id}").text
    assert 'name="queue" value="escalated"' in shown and 'id="review-form"' in shown
    done = client.post(f"/items/{item_id}/review", follow_redirects=False,
                       data={"csrf": csrf, "verdict": "rejected", "reason": "minor", "reason_code": "hate-symbol",
                             "queue": "escalated"})
    assert done.status_code == 303 and done.headers["location"].startswith("/?notice=empty")
    [esc] = escalations(rt, item_id)
    assert esc.resolved_by.startswith("sam (token ")
    assert "Escalation decided" in client.get(f"/items/{item_id}").text
    assert client.post("/escalated/next", data={"csrf": csrf}, follow_redirects=False).headers["location"] == (
        "/escalated?notice=empty")
