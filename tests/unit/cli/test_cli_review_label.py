"""`modq review list|next --label` takes a taxonomy label, as the console and the API do (issue 17.9): a typo
is an error naming --label (exit 2), not an empty queue."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from moderation.cli.main import app
from tests.review_items import decided_item

runner = CliRunner()



@pytest.mark.parametrize("command", [["review", "list"], ["review", "next"]])
def test_a_label_that_is_not_in_the_taxonomy_is_refused(cli_env, media_root, fake_provider, command):
    decided_item(cli_env, media_root, fake_provider, "Hate Symbols", 70)
    result = runner.invoke(app, [*command, "--label", "Hate Symbol"])
    assert result.exit_code == 2
    assert "--label: unknown label 'Hate Symbol'" in result.stderr


def test_a_label_in_any_case_is_the_taxonomys(cli_env, media_root, fake_provider):
    item_id = decided_item(cli_env, media_root, fake_provider, "Hate Symbols", 70)
    listed = runner.invoke(app, ["review", "list", "--label", "hate symbols", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [row["id"] for row in json.loads(listed.stdout)] == [item_id]
    claimed = runner.invoke(app, ["review", "next", "--label", "HATE SYMBOLS", "--json"])
    assert claimed.exit_code == 0 and json.loads(claimed.stdout)["id"] == item_id
