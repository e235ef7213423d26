"""`modq appeals list|decide` against SQLite: the reviewer who made the decision is refused by name."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.domain.tenancy import EVERY_TENANT
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review import appeals, services as review
from tests.review_items import decided_item

runner = CliRunner()


def test_list_then_the_original_reviewer_is_refused_and_another_decides(cli_env, media_root, fake_provider):
    rt = cli_env
    item_id = decided_item(rt, media_root, fake_provider, "Hate Symbols", 70)
    review.review(rt, item_id, "dana (token 7)", "rejected", "hate symbol", admin=True)
    appeal = appeals.file(rt, item_id, "a museum exhibit", "user-1", "forum (token 1)", scope=EVERY_TENANT)
    listed = runner.invoke(app, ["appeals", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.stdout)
    assert (row["id"], row["original"]["decided_by"], row["statement"]) == (
        appeal["id"], "dana (token 7)", "a museum exhibit")
    assert appeal["id"] in runner.invoke(app, ["appeals", "list"]).stdout
    refused = runner.invoke(app, ["appeals", "decide", appeal["id"], "--outcome", "upheld", "--reason", "x",
                                  "--reviewer", "dana"])
    assert refused.exit_code == 1 and "you made the decision appealed" in refused.stderr
    no_verdict = runner.invoke(app, ["appeals", "decide", appeal["id"], "--outcome", "overturned", "--reason",
                                     "x", "--reviewer", "erin"])
    assert no_verdict.exit_code == 2 and "verdict" in no_verdict.stderr
    done = runner.invoke(app, ["appeals", "decide", appeal["id"], "--outcome", "overturned", "--verdict",
                               "approved", "--reason", "museum context", "--reviewer", "erin"])
    assert done.exit_code == 0, done.output
    assert f"item {item_id} is approved" in done.stdout
    with transaction(rt.settings.database_url) as s:
        assert s.get(m.Item, item_id).status == "approved"
    assert json.loads(runner.invoke(app, ["appeals", "list", "--json"]).stdout) == []
