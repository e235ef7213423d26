"""`modq review undo` and `modq review override` (issue 17.2) against SQLite."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.infra.db import transaction
from moderation.items import models as m
from tests.review_items import decided_item

runner = CliRunner()



@pytest.fixture
def reviewed(cli_env, media_root, fake_provider):
    item_id = decided_item(cli_env, media_root, fake_provider, "Hate Symbols", 70)
    assert runner.invoke(app, ["review", "next"]).exit_code == 0
    assert runner.invoke(app, ["review", "reject", item_id, "--reason", "hate symbol"]).exit_code == 0
    return item_id


def status(rt, item_id: str) -> str:
    with transaction(rt.settings.database_url) as s:
        return s.get(m.Item, item_id).status


def test_undo_takes_your_review_back(cli_env, reviewed):
    result = runner.invoke(app, ["review", "undo", reviewed[:8], "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout[result.stdout.index("{\n"):])  # after the use case's log line
    assert printed["status"] == "flagged" and status(cli_env, reviewed) == "flagged"


def test_undo_of_someone_elses_review_fails_naming_the_reviewer(cli_env, reviewed):
    result = runner.invoke(app, ["review", "undo", reviewed, "--reviewer", "erin"])
    assert result.exit_code == 1 and "only the reviewer who recorded it (dana)" in result.stderr
    assert status(cli_env, reviewed) == "rejected"


def test_override_replaces_the_verdict(cli_env, reviewed):
    result = runner.invoke(app, ["review", "override", reviewed, "--verdict", "approved", "--reason", "context",
                                 "--admin-name", "root"])
    assert result.exit_code == 0, result.output
    assert "rejected -> approved (review by dana overridden)" in " ".join(result.stdout.split())
    assert status(cli_env, reviewed) == "approved"


@pytest.mark.parametrize("args, code, message", [
    (["--verdict", "rejected", "--reason", "x"], 1, "is already rejected"),
    (["--verdict", "approved", "--reason", "  "], 2, "reason: a reason of 1-1000 characters"),
    (["--verdict", "flagged", "--reason", "x"], 2, "flagged"),
])
def test_override_refusals(cli_env, reviewed, args, code, message):
    result = runner.invoke(app, ["review", "override", reviewed, *args])
    assert result.exit_code == code and message in result.stderr
    assert status(cli_env, reviewed) == "rejected"


def test_undo_or_override_of_a_missing_item(cli_env):
    for args in (["undo", "nope-nope"], ["override", "nope-nope", "--verdict", "approved", "--reason", "x"]):
        result = runner.invoke(app, ["review", *args])
        assert result.exit_code == 1 and "no item 'nope-nope'" in result.stderr
