"""`--tenant NAME` on the commands that touch items (default ``default``; '*' for every tenant where reading):
submit, submit --from, items list|show|retry, review list|next|approve|reject|release."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.domain.tenancy import DEFAULT_TENANT_ID
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.tenants import services as tenants
from tests.conftest import jpeg_bytes
from tests.review_items import decided_item

runner = CliRunner()



@pytest.fixture
def b(cli_env) -> int:
    return tenants.create(cli_env.settings.database_url, "b", "test")["id"]


def item(rt, item_id: str) -> m.Item:
    with transaction(rt.settings.database_url) as s:
        return s.get(m.Item, item_id)


def move(rt, item_id: str, tenant_id: int, **values) -> None:
    with transaction(rt.settings.database_url) as s:
        s.execute(update(m.Item).where(m.Item.id == item_id).values(tenant_id=tenant_id, **values))


def test_submit_for_a_tenant_audited_under_the_operator(cli_env, media_root, b):
    (media_root / "a.jpg").write_bytes(jpeg_bytes())
    made = runner.invoke(app, ["submit", "a.jpg", "--external-id", "x1", "--tenant", "b", "--json"])
    assert made.exit_code == 0, made.output
    ours = json.loads(made.stdout)["item_id"]
    assert item(cli_env, ours).tenant_id == b
    again = json.loads(runner.invoke(app, ["submit", "a.jpg", "--external-id", "x1", "--json"]).stdout)
    assert again["created"] and item(cli_env, again["item_id"]).tenant_id == DEFAULT_TENANT_ID  # its own x1
    with transaction(cli_env.settings.database_url) as s:
        actor = s.scalar(select(m.AuditEvent.actor).where(m.AuditEvent.item_id == ours))
    assert actor == "cli:dana"


def test_submit_from_a_file_for_a_tenant(cli_env, media_root, b, tmp_path):
    (media_root / "a.jpg").write_bytes(jpeg_bytes())
    lines = tmp_path / "items.ndjson"
    lines.write_text('{"uri": "a.jpg", "external_id": "1"}\n{"uri": "a.jpg", "external_id": "2"}\n')
    result = runner.invoke(app, ["submit", "--from", str(lines), "--tenant", "b", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["created"] == 2
    with transaction(cli_env.settings.database_url) as s:
        assert set(s.scalars(select(m.Item.tenant_id))) == {b}


def test_items_list_show_and_retry_see_one_tenant(cli_env, media_root, fake_provider, b):
    ours, theirs = (decided_item(cli_env, media_root, fake_provider, external_id=x) for x in ("o", "t"))
    move(cli_env, theirs, b, status=m.FAILED)
    listed = lambda *a: [v["id"] for v in json.loads(runner.invoke(app, ["items", "list", "--json", *a]).stdout)]  # noqa: E731
    assert listed() == [ours] and listed("--tenant", "b") == [theirs]
    assert set(listed("--tenant", "*")) == {ours, theirs}
    assert runner.invoke(app, ["items", "show", "t"]).exit_code == 1  # b's external id: not in default
    assert json.loads(runner.invoke(app, ["items", "show", "t", "--tenant", "b", "--json"]).stdout)["id"] == theirs
    skipped = runner.invoke(app, ["items", "retry", theirs])
    assert skipped.exit_code == 1 and "no such item" in skipped.stderr
    assert runner.invoke(app, ["items", "retry", "--all-failed"]).stdout.strip() == "no failed items to retry"
    assert runner.invoke(app, ["items", "retry", "--all-failed", "--tenant", "b"]).exit_code == 0
    assert item(cli_env, theirs).status == m.QUEUED
    unknown = runner.invoke(app, ["items", "list", "--tenant", "nobody"])
    assert unknown.exit_code == 2 and "tenant: no tenant named 'nobody'" in unknown.stderr


def test_review_commands_act_on_one_tenant(cli_env, media_root, fake_provider, b):
    ours, theirs = (decided_item(cli_env, media_root, fake_provider) for _ in range(2))
    move(cli_env, theirs, b)
    queue = lambda *a: [r["id"] for r in json.loads(runner.invoke(app, ["review", "list", "--json", *a]).stdout)]  # noqa: E731
    assert queue() == [ours] and queue("--tenant", "b") == [theirs]
    refused = runner.invoke(app, ["review", "approve", theirs, "--reason", "x", "--admin"])
    assert refused.exit_code == 1 and f"no item {theirs!r}" in refused.stderr
    assert runner.invoke(app, ["review", "release", theirs, "--admin"]).exit_code == 1
    claimed = runner.invoke(app, ["review", "next", "--tenant", "b", "--json"])
    assert claimed.exit_code == 0 and json.loads(claimed.stdout)["id"] == theirs
    held = runner.invoke(app, ["review", "next"])  # a lease held on b's item is not handed out for default
    assert held.exit_code == 1 and f"you hold a lease on item {theirs}" in held.stderr
    done = runner.invoke(app, ["review", "reject", theirs, "--reason", "hateful", "--tenant", "b"])
    assert done.exit_code == 0 and item(cli_env, theirs).status == m.REJECTED
    assert item(cli_env, ours).lease_owner is None


def test_bank_add_for_one_tenant_or_every_one(cli_env, b):
    key, other = "a" * 64, "b" * 64
    assert runner.invoke(app, ["bank", "add", key, "--verdict", "rejected", "--tenant", "b"]).exit_code == 0
    assert runner.invoke(app, ["bank", "add", other, "--verdict", "rejected"]).exit_code == 0  # global
    listed = lambda *a: {r["content_key"]: r["tenant_id"] for r in json.loads(  # noqa: E731
        runner.invoke(app, ["bank", "list", "--json", *a]).stdout)}
    assert listed() == {key: b, other: None} and listed("--tenant", "b") == {key: b, other: None}
    assert listed("--tenant", "default") == {other: None}
    table = runner.invoke(app, ["bank", "list"]).stdout
    assert "* (global)" in table and " b " in table
    unknown = runner.invoke(app, ["bank", "add", key, "--verdict", "rejected", "--tenant", "nobody"])
    assert unknown.exit_code == 2 and "tenant: no tenant named 'nobody'" in unknown.stderr
