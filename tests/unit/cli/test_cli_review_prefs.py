"""`modq review prefs` (issue 17.8-9): a reviewer's preferences by token id, a tenant's defaults by name;
--set changes one key and keeps the rest; bad keys and values exit 2 with nothing stored."""

from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.infra.db import transaction
from moderation.items.models import AuditEvent
from moderation.review import preferences
from moderation.review.models import ReviewerPreferences, TenantReviewDefaults
from moderation.tenants import tokens

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["review", "prefs", *args])


def test_a_reviewers_preferences_by_token_id(cli_env):
    token_id, _ = tokens.create(cli_env.settings.database_url, "alice", "reviewer", created_by="test")
    shown = run("--token", str(token_id))
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["effective"] == preferences.DEFAULTS
    run("--token", str(token_id), "--set", "shortcuts=false", "--set", "video_muted=false")
    changed = json.loads(run("--token", str(token_id), "--set", "video_muted=default").stdout)
    assert changed["reviewer"] == f"alice (token {token_id})" and changed["own"] == {"shortcuts": False}
    assert changed["effective"] == {**preferences.DEFAULTS, "shortcuts": False}


def test_a_tenants_defaults_are_set_as_the_operator_and_audited(cli_env, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "ops")
    result = run("--tenant-defaults", "default", "--set", "grayscale_after_reveal=true")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["settings"] == {"grayscale_after_reveal": True}
    with transaction(cli_env.settings.database_url) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "review_defaults")).one()
        assert event.actor == "cli:ops" and event.reason == "reviewer defaults: grayscale_after_reveal=true"


def test_bad_use_exits_2_and_stores_nothing(cli_env):
    token_id, _ = tokens.create(cli_env.settings.database_url, "alice", "reviewer", created_by="test")
    for args, message in ((["--set", "shortcuts=false"], "give --token ID"),
                          (["--token", str(token_id), "--set", "blur=false"], "blur: unknown preference"),
                          (["--token", str(token_id), "--set", "shortcuts=no"], "shortcuts: give shortcuts=true"),
                          (["--tenant-defaults", "nosuch", "--set", "shortcuts=false"], "no tenant named 'nosuch'")):
        result = run(*args)
        assert result.exit_code == 2 and message in result.stderr, (args, result.output)
    assert run("--token", "999").exit_code == 1
    with transaction(cli_env.settings.database_url) as s:
        assert s.scalars(select(ReviewerPreferences)).all() == [] == s.scalars(select(TenantReviewDefaults)).all()
