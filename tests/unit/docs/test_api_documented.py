"""docs/api.md's endpoint table lists exactly the operations the API serves (its OpenAPI schema)."""

from __future__ import annotations

import re

from moderation.api.app import create_app
from tests.unit.docs import pages

API = pages.REPO / "docs" / "api.md"
_ENDPOINT = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)[^`]*`")


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)  # {item_id} in the code, {id} in the docs


def served() -> set[tuple[str, str]]:
    schema = create_app().openapi()
    return {(method.upper(), _shape(path)) for path, operations in schema["paths"].items() for method in operations}


def documented() -> set[tuple[str, str]]:
    section = pages.text(API).split("## Endpoints", 1)[1].split("\n#", 1)[0]
    rows = [re.split(r"(?<!\\)\|", line)[1] for line in section.splitlines() if line.startswith("| `")]
    return {(method, _shape(path)) for cell in rows for method, path in _ENDPOINT.findall(cell)}


def test_the_endpoint_table_is_read():
    assert {("POST", "/v1/items"), ("GET", "/v1/items/{}"), ("PUT", "/v1/policy")} <= documented()


def test_every_operation_served_is_documented_and_every_documented_one_served():
    served_now, in_docs = served(), documented()
    assert (sorted(served_now - in_docs), sorted(in_docs - served_now)) == ([], [])
