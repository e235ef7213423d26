"""Request body size limit and security headers."""

from __future__ import annotations


def test_body_over_the_limit_is_413(client, auth, rt):
    limit = rt.settings.api_max_body_bytes
    body = {"external_id": "e", "media_uri": "a.jpg", "metadata": {"pad": "x" * limit}}
    response = client.post("/v1/items", json=body, headers=auth["ingest"])
    assert response.status_code == 413 and "MODQ_API_MAX_BODY_BYTES" in response.json()["message"]


def test_chunked_body_without_length_is_cut_off(client, auth, rt):
    def chunks():
        for _ in range(100):
            yield b"x" * 1024

    headers = {**auth["ingest"], "Content-Type": "application/json"}
    response = client.post("/v1/items", content=chunks(), headers=headers)
    assert response.status_code == 413


def test_limit_is_checked_before_the_token(client):
    response = client.post("/v1/items", content=b"x" * 100_000, headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_small_bodies_pass(client, auth):
    response = client.post("/v1/items", json={"external_id": "e", "media_uri": "missing.jpg"}, headers=auth["ingest"])
    assert response.status_code == 422  # reached the handler


def test_security_headers(client):
    response = client.get("/healthz")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
