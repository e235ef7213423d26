"""Every endpoint checks the token and the role: 401 without, 403 with the wrong one."""

from __future__ import annotations

import pytest

from moderation.tenants import tokens

ITEM = "00000000-0000-4000-8000-000000000000"
# method, path, JSON body, roles allowed
ENDPOINTS = [
    ("POST", "/v1/items", {"external_id": "e", "media_uri": "x.jpg"}, {"ingest", "admin"}),
    ("GET", "/v1/items", None, {"ingest", "reviewer", "admin"}),
    ("GET", f"/v1/items/{ITEM}", None, {"ingest", "reviewer", "admin"}),
    ("GET", f"/v1/items/{ITEM}/media", None, {"reviewer", "admin"}),
    ("GET", "/v1/review/queue", None, {"reviewer", "admin"}),
    ("POST", "/v1/review/claim", {}, {"reviewer", "admin"}),
    ("POST", f"/v1/items/{ITEM}/review", {"verdict": "approved", "reason": "ok"}, {"reviewer", "admin"}),
    ("POST", f"/v1/items/{ITEM}/release", None, {"reviewer", "admin"}),
    ("GET", "/v1/audit", None, {"reviewer", "admin"}),
    ("GET", "/v1/audit?format=csv", None, {"reviewer", "admin"}),
    ("GET", "/openapi.json", None, {"ingest", "reviewer", "admin"}),
]
IDS = [f"{m} {p}" for m, p, _, _ in ENDPOINTS]


def call(client, method, path, body, headers=None):
    return client.request(method, path, json=body, headers=headers or {})


@pytest.mark.parametrize("method, path, body, allowed", ENDPOINTS, ids=IDS)
def test_no_token_is_401(client, method, path, body, allowed):
    response = call(client, method, path, body)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "bearer token" in response.json()["message"]


@pytest.mark.parametrize("header", ["Bearer modq_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "modq_x"])
@pytest.mark.parametrize("method, path, body, allowed", ENDPOINTS[:3], ids=IDS[:3])
def test_bad_token_is_401(client, method, path, body, allowed, header):
    assert call(client, method, path, body, {"Authorization": header}).status_code == 401


@pytest.mark.parametrize("role", ["ingest", "reviewer", "admin"])
@pytest.mark.parametrize("method, path, body, allowed", ENDPOINTS, ids=IDS)
def test_role_matrix(client, auth, method, path, body, allowed, role):
    status = call(client, method, path, body, auth[role]).status_code
    if role in allowed:
        assert status not in (401, 403), f"{role} should be allowed"
        assert status < 500
    else:
        assert status == 403


def test_revoked_token_is_401_at_once(client, rt, make_token):
    token = make_token("admin", "temp")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/items", headers=headers).status_code == 200
    tokens.revoke(rt.settings.database_url, "temp", actor="test")
    assert client.get("/v1/items", headers=headers).status_code == 401


def test_healthz_needs_no_token(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_console_session_is_not_an_api_credential(client, sign_in):
    """The API takes bearer tokens only: a console cookie cannot be ridden into API calls."""
    sign_in("admin")
    assert client.get("/v1/items").status_code == 401
    assert client.post("/v1/review/claim").status_code == 401
