"""`modq tenants create|list|show` and `modq tokens create --tenant` against SQLite."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.domain.tenancy import DEFAULT_TENANT_ID, Scope
from moderation.items import services as service
from moderation.items.submission import Origin
from moderation.tenants import services as tenants, tokens

runner = CliRunner()


def test_create_list_show(cli_env, media_root):
    made = runner.invoke(app, ["tenants", "create", "kids-forum", "--json"])
    assert made.exit_code == 0, made.output
    row = json.loads(made.stdout)
    assert row["name"] == "kids-forum" and row["created_by"].startswith("cli:")
    listed = json.loads(runner.invoke(app, ["tenants", "list", "--json"]).stdout)
    assert [(r["id"], r["name"]) for r in listed] == [(DEFAULT_TENANT_ID, "default"), (row["id"], "kids-forum")]
    (media_root / "a.jpg").write_bytes(b"\xff\xd8\xff")
    service.submit("a.jpg", rt=cli_env, origin=Origin(row["id"], "test"))
    shown = runner.invoke(app, ["tenants", "show", "kids-forum", "--json"])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["items"] == {"queued": 1}
    assert json.loads(runner.invoke(app, ["tenants", "show", "default", "--json"]).stdout)["items"] == {}
    text = runner.invoke(app, ["tenants", "show", "kids-forum"])
    assert "queued: 1" in text.stdout and "name: kids-forum" in text.stdout
    assert "kids-forum" in runner.invoke(app, ["tenants", "list"]).stdout


@pytest.mark.parametrize("args, message", [
    (["create", "Kids Forum"], "tenant: 'Kids Forum' is not a tenant name"),
    (["create", "*"], "tenant: '*' is not a tenant name"),
    (["create", "default"], "tenant: 'default' already exists"),
    (["show", "nope"], "tenant: no tenant named 'nope' (`modq tenants list` shows them)"),
])
def test_bad_input_exits_2_naming_the_field(cli_env, args, message):
    result = runner.invoke(app, ["tenants", *args])
    assert result.exit_code == 2 and message in result.stderr.replace("\n", "")
    assert [t["name"] for t in tenants.listing(cli_env.settings.database_url)] == ["default"]


def _token(cli_env, *args):
    result = runner.invoke(app, ["tokens", "create", *args, "--json"])
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout)
    return made, tokens.authenticate(cli_env.settings.database_url, made["token"])


def test_tokens_json_and_scopes(cli_env):
    url = cli_env.settings.database_url
    a, b = (tenants.create(url, name, "ops")["id"] for name in ("a", "b"))
    made, principal = _token(cli_env, "--role", "ingest", "--tenant", "a", "--name", "forum")
    assert set(made) == {"id", "name", "role", "tenants", "token"}
    assert (made["name"], made["role"], made["tenants"]) == ("forum", "ingest", ["a"])
    assert principal.scope == Scope(tenant_ids=frozenset({a}))
    made, principal = _token(cli_env, "--role", "reviewer", "--tenant", "a,b", "--name", "rita")
    assert made["tenants"] == ["a", "b"] and principal.scope == Scope(tenant_ids=frozenset({a, b}))
    _, principal = _token(cli_env, "--role", "reviewer", "--tenant", "a", "--tenant", "b", "--name", "rob")
    assert principal.scope == Scope(tenant_ids=frozenset({a, b}))
    made, principal = _token(cli_env, "--role", "admin", "--tenant", "*", "--name", "root")
    assert made["tenants"] == ["*"] and principal.scope.all
    made, principal = _token(cli_env, "--role", "ingest", "--name", "legacy")  # no --tenant: default
    assert made["tenants"] == ["default"] and principal.scope == Scope(tenant_ids=frozenset({DEFAULT_TENANT_ID}))
    listed = runner.invoke(app, ["tokens", "list", "--json"])
    assert [r["tenants"] for r in json.loads(listed.stdout)] == [["a"], ["a", "b"], ["a", "b"], ["*"], ["default"]]
    assert "a,b" in runner.invoke(app, ["tokens", "list"]).stdout


@pytest.mark.parametrize("args, message", [
    (["--role", "ingest", "--tenant", "a,b"], "tenant: an ingest token submits for exactly one tenant"),
    (["--role", "ingest", "--tenant", "a", "--tenant", "b"], "tenant: an ingest token submits for exactly one"),
    (["--role", "ingest", "--tenant", "*"], "tenant: an ingest token submits for exactly one tenant"),
    (["--role", "reviewer", "--tenant", "*,a"], "tenant: '*' means every tenant; give it alone"),
    (["--role", "reviewer", "--tenant", "nope"], "tenant: no tenant named 'nope'"),
    (["--role", "reviewer", "--tenant", " , "], "--tenant: name a tenant (or '*' for every tenant)"),
])
def test_tokens_create_refuses_bad_scopes(cli_env, args, message):
    tenants.create(cli_env.settings.database_url, "a", "ops")
    tenants.create(cli_env.settings.database_url, "b", "ops")
    result = runner.invoke(app, ["tokens", "create", *args, "--name", "x", "--json"])
    assert result.exit_code == 2 and message in result.stderr.replace("\n", ""), result.output
    assert result.stdout == "" and tokens.list_tokens(cli_env.settings.database_url) == []
