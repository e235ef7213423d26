"""The browser the console tests drive (Debian's Chromium through Playwright; never `playwright install`),
and what every such test does first: a page that records its errors, and signing in (``console``: a served
console with a reviewer signed in)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from moderation.api.app import create_app
from moderation.tenants import tokens
from tests.conftest import REPO
from tests.live_server import serve

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts"  # every screenshot a browser test takes
DOCS_IMG = REPO / "docs" / "img"  # the ones README and docs/api.md show: `MODQ_DOCS_SCREENSHOTS=1 pytest tests/e2e`
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def watched_page(context):
    """A new page and the list its script errors and console errors are appended to."""
    page, errors = context.new_page(), []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return page, errors


def screenshot(page, name: str, **options) -> Path:
    """Save what ``page`` shows as ``test-artifacts/<name>.png``; with MODQ_DOCS_SCREENSHOTS=1 also refresh
    ``docs/img/<name>.png`` if the docs show that picture (so they are redrawn by the test, not by hand; a new
    one is added to docs/img once, by copying it from test-artifacts)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), **options)
    if os.environ.get("MODQ_DOCS_SCREENSHOTS") == "1" and (DOCS_IMG / path.name).exists():
        shutil.copyfile(path, DOCS_IMG / path.name)
    return path


def sign_in(page, base_url: str, token: str) -> None:
    page.fill("#token", token)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(base_url + "/")


@pytest.fixture
def console(rt, browser):
    """The console served on ``rt``, with the reviewer alice signed in: (base_url, context, page, errors, token)."""
    token = tokens.create(rt.settings.database_url, "alice", "reviewer", created_by="test")[1]
    ARTIFACTS.mkdir(exist_ok=True)
    with serve(create_app(rt, health_checks={})) as base_url:
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page, errors = watched_page(context)
        page.goto(base_url + "/login")
        sign_in(page, base_url, token)
        yield base_url, context, page, errors, token
        context.close()
