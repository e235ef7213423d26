"""Context on the console's item page (issue 17.5, 17.9): the item's metadata (escaped), a failed item's reason,
the media-error panel, and the page a stale form gets. The queue's side: test_console_queue_context.py."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from moderation.items import models as m
from moderation.infra.db import transaction
from moderation.review.models import Review

HOSTILE = {"title": "<script>alert(1)</script>", "nested": {"img": "<img src=x onerror=alert(2)>"},
           "<b>key</b>": "\" onmouseover=\"alert(3)", "count": 3}


def set_item(rt, item_id: str, **values) -> None:
    with transaction(rt.settings.database_url) as s:
        s.execute(update(m.Item).where(m.Item.id == item_id).values(**values))


def test_metadata_is_shown_as_text_never_as_html(client, sign_in, flagged, rt):
    item_id = flagged()
    set_item(rt, item_id, item_metadata=HOSTILE)
    sign_in()
    html = client.get(f"/items/{item_id}").text
    block = html[html.index('id="item-metadata"'):html.index("</dl>", html.index('id="item-metadata"'))]
    assert "<dt>title</dt><dd>&lt;script&gt;alert(1)&lt;/script&gt;</dd>" in block
    assert "&lt;img src=x onerror=alert(2)&gt;" in block and '"img"' not in block  # JSON, then escaped
    assert "<dt>&lt;b&gt;key&lt;/b&gt;</dt><dd>&#34; onmouseover=&#34;alert(3)</dd>" in block
    assert "<dt>count</dt><dd>3</dd>" in block
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>key" not in html


def test_no_metadata_says_so(client, sign_in, flagged):
    item_id = flagged()
    sign_in()
    assert re.search(r'<p class="muted" id="item-metadata">None sent.</p>', client.get(f"/items/{item_id}").text)


def test_a_failed_item_shows_its_reason(client, sign_in, flagged, rt):
    item_id = flagged()
    set_item(rt, item_id, status=m.FAILED, attempts=3, failure_reason="provider said <b>ThrottlingException</b>")
    sign_in()
    html = client.get(f"/items/{item_id}").text
    block = html[html.index('id="failure-reason"'):]
    assert "Processing failed</strong> after 3 attempts:" in block
    assert "provider said &lt;b&gt;ThrottlingException&lt;/b&gt;" in block


def test_a_decided_item_has_no_failure_block(client, sign_in, flagged):
    item_id = flagged()
    sign_in()
    assert 'id="failure-reason"' not in client.get(f"/items/{item_id}").text


def test_the_media_error_panel_is_there_hidden_for_the_script(client, sign_in, flagged):
    item_id = flagged()
    sign_in()
    html = client.get(f"/items/{item_id}").text
    assert re.search(r'<div id="media-error" class="media-error" role="alert" hidden>', html)
    assert '<button type="button" id="decide-anyway" hidden>' in html


@pytest.mark.parametrize("token", ["stale-token", None])
def test_a_stale_csrf_token_shows_a_page_that_explains_and_reloads_the_form(client, sign_in, flagged, rt, token):
    item_id = flagged()
    csrf = sign_in()
    client.post("/next", data={"csrf": csrf})  # claim it
    data = {"verdict": "rejected", "reason": "hateful", **({"csrf": token} if token else {})}
    response = client.post(f"/items/{item_id}/review", data=data)
    assert response.status_code == 403 and response.headers["content-type"].startswith("text/html")
    assert "This form has expired" in response.text and "Nothing was recorded" in response.text
    assert f'id="stale-form-retry" href="/items/{item_id}"' in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    with transaction(rt.settings.database_url) as s:
        assert s.query(Review).count() == 0
    queue_form = client.post("/next", data={"csrf": "old"})
    assert queue_form.status_code == 403 and 'id="stale-form-retry" href="/"' in queue_form.text


@pytest.mark.parametrize("form, page", [
    ("/preferences", "/preferences"), ("/preferences/tenant", "/preferences"), ("/escalated/next", "/escalated"),
    ("/appeals/next", "/appeals"), ("/appeals/ap-1/decision", "/appeals/ap-1"), ("/review/bulk", "/"),
])
def test_a_stale_form_is_retried_on_the_page_it_came_from(client, sign_in, form, page):
    sign_in("admin")
    response = client.post(form, data={"csrf": "old"})
    assert response.status_code == 403 and f'id="stale-form-retry" href="{page}"' in response.text
