"""/docs is modq's own page: swagger-ui from the pinned package, the console's CSP,
no address outside this server (the browser test in tests/e2e renders it)."""

from __future__ import annotations

import re

import pytest

from moderation.api.pages import CSP


def test_docs_page_loads_only_files_this_server_serves(client, auth):
    page = client.get("/docs", headers=auth["reviewer"])
    assert page.status_code == 200 and page.headers["content-security-policy"] == CSP
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    assert "<script>" not in page.text  # no inline script: swagger-ui starts from /static/docs.js
    for source in sources:
        assert client.get(source).status_code == 200, source


def test_swagger_ui_is_the_pinned_package_s_files(client):
    bundle = client.get("/static/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and 'PACKAGE_VERSION:"5.34.0"' in bundle.text
    assert client.get("/static/swagger-ui/swagger-ui.css").headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("name", ["favicon-32x32.png", "__init__.py", "..%2F__init__.py", "index.html"])
def test_nothing_else_of_the_package_is_served(client, name):
    assert client.get(f"/static/swagger-ui/{name}").status_code == 404
