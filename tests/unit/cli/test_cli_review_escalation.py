"""`modq review escalate` and `--queue escalated`, `--reason-code` (issue 17.6) against SQLite."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.infra.db import transaction
from moderation.review.models import Escalation, Review
from tests.review_items import decided_item

runner = CliRunner()
NOTE = "possible minor: senior please"



@pytest.fixture
def flagged(rt, media_root, fake_provider):
    return lambda label="Hate Symbols", conf=70: decided_item(rt, media_root, fake_provider, label, conf)


def stored(cli_env, model, item_id: str) -> list:
    with transaction(cli_env.settings.database_url) as s:
        return list(s.scalars(select(model).where(model.item_id == item_id)))


def test_escalate_list_claim_and_decide_from_the_terminal(cli_env, flagged):
    item_id = flagged()
    assert runner.invoke(app, ["review", "next", "--json"]).exit_code == 0
    sent = runner.invoke(app, ["review", "escalate", item_id[:8], "--note", NOTE])
    assert sent.exit_code == 0 and f"{item_id} escalated" in sent.stdout, sent.output
    assert json.loads(runner.invoke(app, ["review", "list", "--json"]).stdout) == []
    listed = json.loads(runner.invoke(app, ["review", "list", "--queue", "escalated", "--json"]).stdout)
    assert [(r["id"], r["escalation"]["note"]) for r in listed] == [(item_id, NOTE)]
    table = runner.invoke(app, ["review", "list", "--queue", "escalated"])
    assert "senior please" in table.stdout and "dana" in table.stdout  # the note, wrapped in its column
    counts = json.loads(runner.invoke(app, ["review", "backlog", "--queue", "escalated", "--json"]).stdout)
    assert [(c["category"], c["count"]) for c in counts] == [("Hate Symbols / Violence", 1)]
    assert runner.invoke(app, ["review", "next"]).exit_code == 3  # the reviewers' queue is empty
    claimed = runner.invoke(app, ["review", "next", "--queue", "escalated", "--reviewer", "sam", "--json"])
    assert claimed.exit_code == 0 and json.loads(claimed.stdout)["escalation"]["note"] == NOTE
    bad = runner.invoke(app, ["review", "reject", item_id, "--reason", "minor", "--reviewer", "sam",
                              "--reason-code", "nope"])
    assert bad.exit_code == 1 and "reason_code: unknown code 'nope'" in bad.stderr
    done = runner.invoke(app, ["review", "reject", item_id, "--reason", "minor", "--reviewer", "sam",
                               "--reason-code", "hate-symbol"])
    assert done.exit_code == 0, done.output
    assert stored(cli_env, Review, item_id)[0].reason_code == "hate-symbol"
    assert stored(cli_env, Escalation, item_id)[0].resolved_by == "sam"


def test_escalate_refuses_without_a_lease_a_note_or_an_item(cli_env, flagged):
    item_id = flagged()
    unclaimed = runner.invoke(app, ["review", "escalate", item_id, "--note", NOTE])
    assert unclaimed.exit_code == 1 and "you hold no lease" in unclaimed.stderr
    runner.invoke(app, ["review", "next"])
    blank = runner.invoke(app, ["review", "escalate", item_id, "--note", "   "])
    assert blank.exit_code == 2 and "note: say why" in blank.stderr
    missing = runner.invoke(app, ["review", "escalate", "no-such-item", "--note", NOTE])
    assert missing.exit_code == 1 and "no item" in missing.stderr
    assert stored(cli_env, Escalation, item_id) == []
    senior = runner.invoke(app, ["review", "escalate", item_id, "--note", NOTE, "--reviewer", "sam", "--senior"])
    assert senior.exit_code == 0, senior.output
