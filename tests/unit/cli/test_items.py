"""`modq items list|show`: a status or verdict outside the choices is refused naming them; an item is named
by id, external id or an id prefix of 4+ characters, and a prefix of several items lists them."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.infra.db import transaction
from moderation.items import models as m

runner = CliRunner()
TWINS = ["c0de1111-0000-4000-8000-000000000001", "c0de2222-0000-4000-8000-000000000002"]


def flat(text: str) -> str:
    """typer's error box as one line."""
    return " ".join(text.replace("│", " ").split())


@pytest.fixture
def twins(cli_env):
    with transaction(cli_env.settings.database_url) as s:
        s.add_all(m.Item(id=i, media_uri="a.jpg", media_type="image", status=m.FAILED) for i in TWINS)
    return TWINS


@pytest.mark.parametrize("option, value, choices", [
    ("--status", "bogus", "'queued', 'processing', 'submitted', 'approved', 'flagged', 'rejected', 'failed'"),
    ("--verdict", "failed", "'approved', 'flagged', 'rejected'"),
])
def test_list_refuses_a_value_outside_the_choices_and_names_them(cli_env, option, value, choices):
    result = runner.invoke(app, ["items", "list", option, value])
    assert (result.exit_code, result.stdout) == (2, "")
    assert f"Invalid value for '{option}': Value error, '{value}' is not one of {choices}" in flat(result.stderr)


def test_list_filters_by_a_choice(twins):
    listed = runner.invoke(app, ["items", "list", "--status", "failed", "--json"])
    assert listed.exit_code == 0 and {v["id"] for v in json.loads(listed.stdout)} == set(twins)
    assert json.loads(runner.invoke(app, ["items", "list", "--status", "queued", "--json"]).stdout) == []


def test_show_takes_a_four_character_prefix_and_lists_the_items_of_an_ambiguous_one(twins):
    shown = runner.invoke(app, ["items", "show", "c0de2", "--json"])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["id"] == twins[1]
    ambiguous = runner.invoke(app, ["items", "show", "c0de"])
    assert (ambiguous.exit_code, ambiguous.stdout) == (2, "")
    assert ambiguous.stderr.replace("\n", "") == (f"error: id prefix 'c0de' matches several items: {twins[0]}, "
                                                  f"{twins[1]}; give more characters")
    assert runner.invoke(app, ["items", "show", "c0d"]).exit_code == 1  # three characters name nothing


def test_retry_takes_a_prefix(twins):
    result = runner.invoke(app, ["items", "retry", "c0de1"])
    assert result.exit_code == 0 and f"{twins[0]} queued" in result.stdout
