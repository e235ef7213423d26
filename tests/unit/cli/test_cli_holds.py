"""`modq holds add|list|release`: the operator's legal holds, audited as `cli:<user>`; bad input exits 2 with
nothing stored."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.items import models as m
from moderation.tenants import services as tenants
from tests.unit.privacy.hold_items import audit_rows, hold_rows, item_of

runner = CliRunner()


def modq(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def other(cli_env) -> int:
    return tenants.create(cli_env.settings.database_url, "other", "test")["id"]


def test_add_an_item_hold_in_the_item_s_own_tenant(cli_env, media_root, other):
    item = item_of(cli_env, media_root, tenant_id=other)

    result = modq("holds", "add", "--item", item, "--reason", "court order 7")

    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"legal hold 1 on item {item} (tenant other)"
    [row] = hold_rows(cli_env)
    assert (row.tenant_id, row.item_id, row.reason, row.created_by) == (other, item, "court order 7", "cli:dana")
    [entry] = audit_rows(cli_env, m.AuditAction.HOLD)
    assert (entry.item_id, entry.actor, entry.reason) == (item, "cli:dana", "hold 1: court order 7")


def test_add_a_subject_hold_and_list_it(cli_env, other):
    added = modq("holds", "add", "--subject", "user-7", "--tenant", "other", "--reason", "police request", "--json")
    listed = modq("holds", "list", "--json")
    table = modq("holds", "list", "--tenant", "other")

    assert added.exit_code == 0, added.stderr
    hold = json.loads(added.stdout)
    assert (hold["tenant"], hold["subject_id"], hold["item_id"]) == ("other", "user-7", None)
    assert json.loads(listed.stdout) == [hold]
    assert table.exit_code == 0 and {"user-7", "police", "other"} <= set(table.stdout.split())
    assert modq("holds", "list", "--tenant", "default").stdout.strip() == "no legal holds active"


def test_release_then_list_all(cli_env):
    modq("holds", "add", "--subject", "user-7", "--reason", "r")

    released = modq("holds", "release", "1", "--reason", "case closed")
    again = modq("holds", "release", "1")

    assert released.exit_code == 0 and released.stdout.strip() == "legal hold 1 released"
    assert again.exit_code == 2 and "legal hold 1 was released already, by cli:dana" in again.stderr
    assert modq("holds", "list").stdout.strip() == "no legal holds active"
    [row] = json.loads(modq("holds", "list", "--all", "--json").stdout)
    assert row["released_by"] == "cli:dana"
    [entry] = audit_rows(cli_env, m.AuditAction.RELEASE_HOLD)
    assert entry.reason == "hold 1 on a subject: case closed"


def test_release_of_another_tenant_s_hold_is_not_found(cli_env, other):
    modq("holds", "add", "--subject", "user-7", "--tenant", "other", "--reason", "r")
    result = modq("holds", "release", "1", "--tenant", "default")
    assert result.exit_code == 2 and "no legal hold 1" in result.stderr
    assert hold_rows(cli_env)[0].released_at is None


@pytest.mark.parametrize("args, message", [
    (["--reason", "r"], "give exactly one of --item ID and --subject ID"),
    (["--item", "i", "--subject", "u", "--reason", "r"], "give exactly one of --item ID and --subject ID"),
    (["--subject", "u", "--reason", " "], "reason: 1-1000 printable characters are required"),
    (["--subject", "u", "--reason", "x" * 1001], "reason: 1-1000 printable characters are required"),
    (["--subject", "u", "--reason", "r", "--tenant", "nobody"], "nobody"),
    (["--item", "no-such-item", "--reason", "r"], "no item 'no-such-item'"),
])
def test_bad_input_exits_2_and_stores_nothing(cli_env, args, message):
    result = modq("holds", "add", *args)
    assert result.exit_code == 2 and message in result.stderr
    assert hold_rows(cli_env) == [] and audit_rows(cli_env, m.AuditAction.HOLD) == []


def test_an_item_of_another_tenant_than_named_is_not_found(cli_env, media_root, other):
    item = item_of(cli_env, media_root, tenant_id=other)
    result = modq("holds", "add", "--item", item, "--tenant", "default", "--reason", "r")
    assert result.exit_code == 2 and f"no item '{item}'" in result.stderr
    assert hold_rows(cli_env) == []
