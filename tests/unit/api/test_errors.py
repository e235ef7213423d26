"""A body that is not a JSON object gets one line a person can act on, on every route (moderation/api/errors.py)."""

from __future__ import annotations

import pytest

from moderation.api.errors import JSON_HINT

ROUTES = [("ingest", "POST", "/v1/items"), ("admin", "PUT", "/v1/policy"),
          ("reviewer", "POST", "/v1/items/some-item/review"), ("admin", "POST", "/v1/bank")]
BODIES = [  # (content type, body, message)
    ("application/json", b"{not json", "the request body is not valid JSON: Expecting property name enclosed in "
                                        "double quotes: line 1 column 2 (char 1)"),
    ("application/json", b'{\n  "yaml": "x",\n}', "the request body is not valid JSON: Expecting property name "
                                                  "enclosed in double quotes: line 3 column 1 (char 17)"),
    ("application/json", b"\xff\xfe", "the request body is not valid JSON: Expecting value: line 1 column 1 (char 0)"),
    ("application/json", b"", f"the request body is empty: {JSON_HINT}"),
    ("text/plain", b"hello", f"the request body was not sent as JSON (Content-Type: text/plain): {JSON_HINT}"),
    ("application/x-www-form-urlencoded", b"a=1",
     f"the request body was not sent as JSON (Content-Type: application/x-www-form-urlencoded): {JSON_HINT}"),
    ("application/json", b"[1, 2]", f"the request body is an array, not a JSON object: {JSON_HINT}"),
    ("application/json", b'"text"', f"the request body is a string, not a JSON object: {JSON_HINT}"),
    ("application/json", b"42", f"the request body is a number, not a JSON object: {JSON_HINT}"),
    ("application/json", b"null", f"the request body is null, not a JSON object: {JSON_HINT}"),
]


@pytest.mark.parametrize("role, method, path", ROUTES, ids=[f"{r[1]} {r[2]}" for r in ROUTES])
@pytest.mark.parametrize("content_type, body, message", BODIES, ids=[repr(b[1][:12]) for b in BODIES])
def test_a_body_that_is_not_a_json_object(client, auth, role, method, path, content_type, body, message):
    response = client.request(method, path, content=body, headers={**auth[role], "Content-Type": content_type})
    assert (response.status_code, response.json()["message"]) == (422, message)
    assert response.json()["detail"][0]["loc"][0] == "body"  # the details stay as FastAPI gives them


def test_field_errors_still_name_the_field(client, auth):
    response = client.post("/v1/items", json={"external_id": "x"}, headers=auth["ingest"])
    assert response.json()["message"] == "media_uri: Field required"
