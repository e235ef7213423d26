"""`modq tokens ...` and `modq review ...` against SQLite."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from moderation.tenants import tokens
from moderation.cli.main import app
from moderation.items import models as m
from moderation.infra.db import transaction
from tests.review_items import decided_item

runner = CliRunner()



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


def test_tokens_create_refuses_a_bad_role_listing_the_roles(cli_env):
    result = runner.invoke(app, ["tokens", "create", "--role", "root", "--name", "x"])
    shown = " ".join(result.stderr.replace("│", " ").split())  # typer's error box, unwrapped
    assert result.exit_code == 2 and "'root' is not one of 'ingest', 'reviewer', 'senior', 'admin'" in shown
    assert tokens.list_tokens(cli_env.settings.database_url) == []


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


def test_release_admin_ends_someone_elses_claim_as_its_help_says(cli_env, flagged):
    item_id = flagged()
    runner.invoke(app, ["review", "next", "--reviewer", "erin"])
    assert runner.invoke(app, ["review", "release", item_id[:4]]).exit_code == 1  # not dana's claim
    help_text = " ".join(runner.invoke(app, ["review", "release", "--help"]).stdout.replace("│", " ").split())
    assert "--admin Release a claim someone else holds" in help_text
    released = runner.invoke(app, ["review", "release", item_id[:4], "--admin"])
    assert released.exit_code == 0 and released.stdout.strip() == f"{item_id} released"
    with transaction(cli_env.settings.database_url) as s:
        assert s.get(m.Item, item_id).lease_owner is None


def test_an_ambiguous_prefix_decides_nothing_and_lists_the_items(cli_env):
    twins = ["feed1111-0000-4000-8000-000000000001", "feed2222-0000-4000-8000-000000000002"]
    with transaction(cli_env.settings.database_url) as s:
        s.add_all(m.Item(id=i, media_uri="a.jpg", media_type="image", status=m.FLAGGED, verdict=m.FLAGGED)
                  for i in twins)
    result = runner.invoke(app, ["review", "approve", "feed", "--reason", "x", "--admin"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.replace("\n", "") == (f"error: id prefix 'feed' matches several items: {twins[0]}, "
                                               f"{twins[1]}; give more characters")
    with transaction(cli_env.settings.database_url) as s:
        assert [s.get(m.Item, i).status for i in twins] == ["flagged", "flagged"]
    assert runner.invoke(app, ["review", "approve", "feed2", "--reason", "x", "--admin"]).exit_code == 0


def test_list_refuses_a_queue_that_does_not_exist(cli_env):
    result = runner.invoke(app, ["review", "list", "--verdict", "approved"])
    shown = " ".join(result.stderr.replace("│", " ").split())
    assert result.exit_code == 2 and "'approved' is not one of 'flagged', 'rejected'" in shown


def test_review_backlog_counts_per_category(cli_env, flagged):
    flagged("Self-Harm", 70), flagged("Hate Symbols", 70), flagged("Graphic Violence", 60)
    shown = runner.invoke(app, ["review", "backlog", "--json"])
    assert shown.exit_code == 0, shown.output
    assert [(r["category"], r["rank"], r["count"]) for r in json.loads(shown.stdout)] == [
        ("Self-Harm", 1, 1), ("Hate Symbols / Violence", 2, 2)]
    assert "Self-Harm" in runner.invoke(app, ["review", "backlog", "--verdict", "flagged"]).stdout
    assert json.loads(runner.invoke(app, ["review", "backlog", "--json", "--verdict", "rejected"]).stdout) == []
