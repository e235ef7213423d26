"""The console's Tuning page in headless Chromium with the network blocked: an admin sees a chart per category,
drawn by uPlot served from modq itself, with no script error under the console's CSP; a reviewer does not.

Debian's ``chromium`` driven by Playwright (never ``playwright install``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from moderation.api.app import create_app
from moderation.policy import replay, versions as policy_store
from moderation.tenants import tokens
from tests.e2e.conftest import screenshot, sign_in, watched_page
from tests.fakes.providers import labels_for
from tests.live_server import serve
from tests.unit.policy.test_curves import CURRENT_YAML, LABELLED
from tests.unit.policy.test_recommend import seed

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e


def _only_this_server(outside: list[str]):
    def route(r):
        if urlsplit(r.request.url).hostname == "127.0.0.1":
            return r.continue_()
        outside.append(r.request.url)
        return r.abort("blockedbyclient")

    return route


def test_tuning_page_draws_a_chart_per_category(rt, browser):
    hate = [replay.Row("rekognition", labels_for("Nazi Party", c), 50.0, "flagged", truth)
            for c, truth in ((90, "rejected"), (60, "approved"), (75, "rejected"))]
    seed(rt.settings.database_url, LABELLED + hate)
    policy_store.apply(rt.settings.database_url, CURRENT_YAML, author="test", note="", source="test")
    token = tokens.create(rt.settings.database_url, "root", "admin", created_by="test")[1]
    with serve(create_app(rt, health_checks={})) as base_url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        outside: list[str] = []
        context.route("**/*", _only_this_server(outside))
        page, errors = watched_page(context)
        scripts: list[str] = []
        page.on("response", lambda r: scripts.append(r.url) if r.request.resource_type == "script" else None)

        page.goto(base_url + "/login")
        sign_in(page, base_url, token)
        page.click("nav a[href='/tuning']")
        page.wait_for_url(base_url + "/tuning")
        page.fill("input[name=target]", "0.75")
        page.fill("input[name=min_support]", "1")
        page.click("form.filters button[type=submit]")
        try:
            page.wait_for_selector("figure.curve canvas", timeout=20_000)
        except sync_api.TimeoutError:
            pass  # nothing drawn: the assertions below say why
        figures = page.eval_on_selector_all("figure.curve", "fs => fs.map(f => f.dataset.category)")
        caption = page.inner_text("figure.curve[data-category=Violence] figcaption")
        legend = page.inner_text("figure.curve[data-category=Violence] .u-legend")
        # Something was painted: the canvas holds non-transparent pixels beyond the axes.
        painted = page.evaluate("""() => {
            const c = document.querySelector('figure.curve canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }""")
        status_hidden = page.is_hidden("#curves-status")
        screenshot(page, "console-tuning", full_page=True)
        context.close()
    assert outside == [], f"the Tuning page tried to load from outside this server: {outside}"
    assert errors == [], errors  # no JavaScript error, no CSP violation
    assert figures == ["Hate Symbols", "Violence"] and status_hidden
    assert "5 reviewed items" in caption and "current flag 70" in caption and "recommended flag 65" in caption
    assert "reject 90 (flat past it" in caption
    assert "precision" in legend and "recall" in legend  # uPlot's legend, as the series are named
    assert painted > 2000
    assert f"{base_url}/static/uPlot-1.6.32.iife.min.js" in scripts and f"{base_url}/static/tuning.js" in scripts
    assert all(url.startswith(base_url) for url in scripts)


def test_a_reviewer_gets_no_chart(rt, browser):
    token = tokens.create(rt.settings.database_url, "alice", "reviewer", created_by="test")[1]
    with serve(create_app(rt, health_checks={})) as base_url:
        context = browser.new_context()
        page, errors = watched_page(context)
        page.goto(base_url + "/login")
        sign_in(page, base_url, token)
        assert page.locator("nav a[href='/tuning']").count() == 0
        response = page.goto(base_url + "/tuning")
        heading = page.inner_text("h1")
        charts = page.locator("figure.curve").count()
        context.close()
    assert response.status == 403 and heading == "Admins only" and charts == 0
