"""GET /v1/policy/curves (admin token) and the console's Tuning page with its JSON (admin session): the curves
counted by hand in tests/unit/policy/test_curves.py, who may see them, and the chart library served by modq."""

from __future__ import annotations

import pytest

from moderation.api.app import STATIC
from moderation.domain import policy
from moderation.policy import versions as policy_store
from tests.unit.policy.test_curves import CURRENT_YAML, EXPECTED, LABELLED
from tests.unit.policy.test_recommend import seed

UPLOT = "/static/uPlot-1.6.32.iife.min.js"


@pytest.fixture
def labelled(rt):
    """The hand-counted set, reviewed, under an applied policy with Violence flag 70."""
    seed(rt.settings.database_url, LABELLED)
    policy_store.apply(rt.settings.database_url, CURRENT_YAML, author="test", note="", source="test")


def test_curves_shape_and_values(client, auth, labelled):
    response = client.get("/v1/policy/curves", headers=auth["admin"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in ("version", "provider", "since", "reviewed", "target", "min_support")} == {
        "version": policy.parse(CURRENT_YAML).version, "provider": "rekognition", "since": "30d", "reviewed": 5,
        "target": None, "min_support": 20}
    (curve,) = body["curves"]
    assert {k: curve[k] for k in ("category", "support", "current", "candidate", "reject")} == {
        "category": "Violence", "support": 5, "current": 70, "candidate": None, "reject": 90}
    assert [p["threshold"] for p in curve["points"]] == sorted(set(EXPECTED) - {60})  # no candidate, no 60
    for p in curve["points"]:
        tp, fp, fn, tn, precision, recall, _, _ = EXPECTED[p["threshold"]]
        assert (p["tp"], p["fp"], p["fn"], p["tn"]) == (tp, fp, fn, tn)
        assert (p["precision"], p["recall"]) == pytest.approx((precision, recall))


def test_a_target_marks_the_recommended_flag(client, auth, labelled):
    body = client.get("/v1/policy/curves?target=0.75&min_support=1&since=2w", headers=auth["admin"]).json()
    (curve,) = body["curves"]
    assert (body["target"], body["since"], curve["current"], curve["candidate"]) == (0.75, "2w", 70, 65)
    assert 65 in [p["threshold"] for p in curve["points"]]
    kept = client.get("/v1/policy/curves?target=0.75", headers=auth["admin"]).json()  # 5 < --min-support 20
    assert kept["curves"][0]["candidate"] == 70


def test_no_reviewed_items_is_an_empty_list(client, auth):
    body = client.get("/v1/policy/curves?provider=local", headers=auth["admin"]).json()
    assert (body["provider"], body["reviewed"], body["curves"]) == ("local", 0, [])


@pytest.mark.parametrize("role, status", [("ingest", 403), ("reviewer", 403), ("admin", 200)])
def test_only_admins_read_the_curves(client, auth, role, status):
    assert client.get("/v1/policy/curves", headers=auth[role]).status_code == status
    assert client.get("/v1/policy/curves").status_code == 401


@pytest.mark.parametrize("query, named", [
    ("since=abc", "since: String should match pattern"),
    ("since=99999d", "since: String should match pattern"),  # would overflow a date
    ("target=0", "target: Input should be greater than 0"),
    ("target=1.5", "target: Input should be less than or equal to 1"),
    ("target=nan", "target:"),
    ("provider=azure", "provider: Input should be 'rekognition' or 'local'"),
    ("min_support=0", "min_support: Input should be greater than or equal to 1"),
])
def test_bad_parameters_are_422_with_the_name(client, auth, query, named):
    response = client.get(f"/v1/policy/curves?{query}", headers=auth["admin"])
    assert response.status_code == 422 and named in response.json()["message"], response.json()


def test_the_schema_lists_the_endpoint_not_the_console_pages(app):
    paths = app.openapi()["paths"]
    assert paths["/v1/policy/curves"]["get"]["operationId"] == "getPolicyCurves"
    assert not [p for p in paths if p.startswith("/tuning")]


def test_console_page_for_admins(client, sign_in, labelled):
    sign_in("admin")
    page = client.get("/tuning?target=0.9")
    assert page.status_code == 200
    assert 'data-url="/tuning/curves?since=30d&amp;target=0.9&amp;min_support=20"' in page.text
    assert f'<script src="{UPLOT}" defer></script>' in page.text and '<a href="/tuning">Tuning</a>' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    data = client.get("/tuning/curves?target=0.75&min_support=1")
    assert data.status_code == 200 and data.json()["curves"][0]["candidate"] == 65


def test_console_page_refuses_reviewers(client, sign_in, labelled):
    sign_in("reviewer")
    assert '<a href="/tuning">' not in client.get("/").text
    page = client.get("/tuning")
    assert page.status_code == 403 and "Admins only" in page.text and UPLOT not in page.text
    data = client.get("/tuning/curves")
    assert data.status_code == 403 and "for admins" in data.json()["message"]


def test_console_page_needs_a_session_not_a_token(client, auth):
    response = client.get("/tuning", headers=auth["admin"], follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_the_chart_library_is_served_from_the_package_with_its_licence(client):
    script = client.get(UPLOT)
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert script.text.startswith("/*! https://github.com/leeoniya/uPlot (v1.6.32) */")
    assert client.get("/static/uPlot-1.6.32.min.css").status_code == 200
    assert "MIT License" in (STATIC / "uPlot-LICENSE.txt").read_text()
