"""What `modq demo` prints at the end: outcomes, the honest note on recorded answers, next steps."""

from __future__ import annotations

import io

import yaml
from rich.console import Console

from moderation.cli import demo_report as report
from moderation.domain import policy
from moderation.tenants import tokens


def console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=200), buf


def test_the_candidate_is_the_active_policy_with_weapons_flagged_from_90(make_settings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = make_settings()
    path = report.write_candidate(settings)
    candidate = policy.parse((tmp_path / path).read_text())
    current = policy.load(settings.thresholds)
    assert candidate.rule_for("Weapons")[1] == policy.Rule(90.0, None)
    assert {k: v for k, v in candidate.rules.items() if k != "Weapons"} == current.rules
    assert candidate.profiles.keys() == current.profiles.keys()  # the offline model's profile is kept
    assert yaml.safe_load((tmp_path / path).read_text())["labels"]["Weapons"] == {"flag": 90, "reject": None}


def test_next_steps_name_the_commands_and_a_working_reviewer_token(make_settings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = make_settings()
    _, old = tokens.create(settings.database_url, report.REVIEWER, "reviewer", created_by="test")
    con, buf = console()
    token = report.next_steps(con, settings, {"MODQ_MEDIA_ROOT": "/srv/demo media"}, None)
    text = buf.getvalue()
    assert tokens.authenticate(settings.database_url, token).role == "reviewer"
    assert tokens.authenticate(settings.database_url, old) is None  # one demo reviewer token at a time
    for expected in (f"http://{settings.api_host}:{settings.api_port}/login", token, "export MODQ_MEDIA_ROOT='/srv/demo media'",
                     f"modq review next --reviewer {report.REVIEWER}", "modq stats", "modq policy simulate "
                     f"{report.CANDIDATE} --since 1h", "modq demo --serve", "modq transparency export --since 1h"):
        assert expected in text, expected


def test_when_serving_the_console_url_is_the_servers(make_settings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    con, buf = console()
    report.next_steps(con, make_settings(), {}, "http://127.0.0.1:8123")
    assert "http://127.0.0.1:8123/login" in buf.getvalue() and "export MODQ_" not in buf.getvalue()


def test_the_summary_counts_every_outcome_and_says_the_answers_are_not_from_aws():
    con, buf = console()
    views = [{"status": s} for s in ("approved", "approved", "flagged", "rejected", "failed")]
    report.summary(con, views)
    text = " ".join(buf.getvalue().split())
    assert "outcomes: 2 approved, 1 flagged, 1 rejected, 1 failed" in text
    assert "no call to AWS was made" in text and "samples/recorded/detect-moderation-labels.json" in text
