"""/docs in headless Chromium with the network blocked: the API docs UI is
served by modq itself (the pinned fastapi-swagger package), under the
console's Content-Security-Policy, and renders every operation.

Debian's ``chromium`` driven by Playwright (never ``playwright install``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from moderation.tenants import tokens
from moderation.api.app import create_app
from tests.e2e.conftest import sign_in, watched_page
from tests.live_server import serve

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.e2e


def test_docs_render_every_operation_with_the_network_blocked(rt, browser):
    token = tokens.create(rt.settings.database_url, "alice", "reviewer", created_by="test")[1]
    app = create_app(rt, health_checks={})
    operations = {op["operationId"] for path in app.openapi()["paths"].values() for op in path.values()}
    with serve(app) as base_url:
        context = browser.new_context()
        outside: list[str] = []

        def only_this_server(route):
            if urlsplit(route.request.url).hostname == "127.0.0.1":
                return route.continue_()
            outside.append(route.request.url)
            return route.abort("blockedbyclient")

        context.route("**/*", only_this_server)
        page, problems = watched_page(context)

        page.goto(base_url + "/login")
        sign_in(page, base_url, token)
        response = page.goto(base_url + "/docs")
        try:
            page.wait_for_selector(".opblock", timeout=20_000)
        except sync_api.TimeoutError:
            pass  # nothing rendered: the assertions below say why
        csp = response.headers.get("content-security-policy", "")
        rendered = set(page.eval_on_selector_all(".opblock", "blocks => blocks.map(b => b.id)"))
        context.close()
    assert outside == [], f"/docs tried to load from outside this server: {outside}"
    assert "script-src 'self';" in csp, csp
    assert problems == [], problems  # no JavaScript errors, no CSP violations
    # swagger-ui ids each operation block "operations-<tag>-<operationId>".
    assert {block.rsplit("-", 1)[-1] for block in rendered} == operations
