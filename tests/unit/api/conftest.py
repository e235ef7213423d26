"""The API on SQLite with the fake provider, dispatcher and publisher."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from moderation.tenants import tokens
from moderation.ops import health
from moderation.api.app import create_app
from tests.review_items import decided_item

NAMES = {"ingest": "forum-backend", "reviewer": "alice", "admin": "root"}


@pytest.fixture
def app(rt):
    # The real database check; the broker is not part of unit tests.
    return create_app(rt, health_checks={"database": health.database, "broker": lambda _rt: None})


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture
def make_token(rt):
    def make(role: str, name: str | None = None) -> str:
        return tokens.create(rt.settings.database_url, name or NAMES[role], role, created_by="test")[1]

    return make


@pytest.fixture
def auth(make_token) -> dict[str, dict[str, str]]:
    """Headers per role: ingest (forum-backend), reviewer (alice), admin (root)."""
    return {role: {"Authorization": f"Bearer {make_token(role)}"} for role in NAMES}


@pytest.fixture
def token(rt):
    """Headers of a new token: ``token(role, name, *tenant names)`` (default: the default tenant)."""
    def make(role: str, name: str, *names: str) -> dict[str, str]:
        _, secret = tokens.create(rt.settings.database_url, name, role, "test", tenant_names=names or ("default",))
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def flagged(rt, media_root, fake_provider):
    def make(label: str | None = "Hate Symbols", confidence: float = 70, **kw) -> str:
        return decided_item(rt, media_root, fake_provider, label, confidence, **kw)

    return make


def form_csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture
def sign_in(client, make_token):
    """Sign the test client in to the console; returns the session's CSRF token."""

    def go(role: str = "reviewer", name: str | None = None) -> str:
        login = client.get("/login")
        response = client.post("/login", data={"token": make_token(role, name), "csrf": form_csrf(login.text)},
                               follow_redirects=False)
        assert response.status_code == 303, response.text
        return form_csrf(client.get("/").text)

    return go
