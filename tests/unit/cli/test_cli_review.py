"""`modq tokens ...` and `modq review ...` against SQLite."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from moderation.review import tokens
from moderation.cli.main import app
from moderation.items import models as m
from moderation.infra.db import transaction
from tests.review_items import decided_item

runner = CliRunner()


@pytest.fixture
def cli_env(cli_env, monkeypatch):
    monkeypatch.setenv("USER", "dana")  # the reviewer name the CLI defaults to
    return cli_env


@pytest.fixture
def flagged(rt, media_root, fake_provider):
    return lambda label="Hate Symbols", conf=70: decided_item(rt, media_root, fake_provider, label, conf)


def test_tokens_create_prints_the_token_once_then_revoke(cli_env):
    made = runner.invoke(app, ["tokens", "create", "--role", "reviewer", "--name", "alice"])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    assert token.startswith("modq_") and "cannot be shown again" in made.stderr
    assert tokens.authenticate(cli_env.settings.database_url, token).role == "reviewer"
    listed = runner.invoke(app, ["tokens", "list", "--json"])
    assert token not in listed.stdout and json.loads(listed.stdout)[0]["name"] == "alice"
    assert runner.invoke(app, ["tokens", "revoke", "alice"]).exit_code == 0
    assert tokens.authenticate(cli_env.settings.database_url, token) is None
    assert runner.invoke(app, ["tokens", "revoke", "alice"]).exit_code == 1


def test_tokens_create_refuses_a_bad_role(cli_env):
    result = runner.invoke(app, ["tokens", "create", "--role", "root", "--name", "x"])
    assert result.exit_code == 2 and "unknown role" in result.stderr


def test_review_list_next_approve(cli_env, flagged):
    item_id = flagged()
    listed = runner.invoke(app, ["review", "list", "--json"])
    assert [r["id"] for r in json.loads(listed.stdout)] == [item_id]
    claimed = runner.invoke(app, ["review", "next", "--json"])
    assert claimed.exit_code == 0 and json.loads(claimed.stdout)["lease"]["owner"] == "dana"  # $USER
    done = runner.invoke(app, ["review", "approve", item_id[:8], "--reason", "satire"])
    assert done.exit_code == 0, done.output
    with transaction(cli_env.settings.database_url) as s:
        assert s.get(m.Item, item_id).status == "approved"
    assert runner.invoke(app, ["review", "next"]).exit_code == 3  # nothing left


def test_review_reject_needs_the_lease_unless_admin(cli_env, flagged):
    item_id = flagged()
    runner.invoke(app, ["review", "next", "--reviewer", "erin"])
    refused = runner.invoke(app, ["review", "reject", item_id, "--reason", "x"])
    assert refused.exit_code == 1 and "leased to erin" in refused.stderr
    forced = runner.invoke(app, ["review", "reject", item_id, "--reason", "x", "--admin"])
    assert forced.exit_code == 0


def test_review_requires_a_reason_and_a_known_item(cli_env, flagged):
    item_id = flagged()
    assert runner.invoke(app, ["review", "approve", item_id]).exit_code == 2  # --reason is required
    assert "no item" in runner.invoke(app, ["review", "approve", "nope", "--reason", "x"]).stderr


def test_review_release(cli_env, flagged):
    item_id = flagged()
    runner.invoke(app, ["review", "next"])
    assert runner.invoke(app, ["review", "release", item_id]).exit_code == 0
    assert runner.invoke(app, ["review", "release", item_id]).exit_code == 1


def test_review_next_refuses_a_lease_over_the_limit(cli_env, flagged):
    item_id = flagged()
    refused = runner.invoke(app, ["review", "next", "--lease-seconds", "7200"])
    assert refused.exit_code == 2
    assert refused.stderr.replace("\n", "") == ("error: lease_seconds 7200 is over the limit of 3600 seconds "
                                                "(MODQ_REVIEW_MAX_LEASE_SECONDS)")
    with transaction(cli_env.settings.database_url) as s:
        assert s.get(m.Item, item_id).lease_owner is None  # nothing leased
    granted = runner.invoke(app, ["review", "next", "--lease-seconds", "3600", "--json"])
    assert granted.exit_code == 0 and json.loads(granted.stdout)["id"] == item_id


def test_review_next_again_shows_the_item_already_held(cli_env, flagged):
    first, _second = flagged(), flagged()
    shown = [json.loads(runner.invoke(app, ["review", "next", "--json"]).stdout)["id"] for _ in range(2)]
    assert shown == [first, first]
