"""`modq transparency export` (issue 18.2): the stored statements as NDJSON or CSV, of one tenant or every one,
since a duration or a date; a bad --since or --out is a usage error (exit 2) that writes nothing."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.tenants import services as tenants
from moderation.transparency.models import Statement
from tests.transparency_items import statements, tenant_item

runner = CliRunner()


@pytest.fixture
def seeded(cli_env, media_root, fake_provider):
    """Two rejections of the default tenant (one 40 days old), one of tenant "other", an approval."""
    rt = cli_env
    other = tenants.create(rt.settings.database_url, "other", "test")["id"]
    old = tenant_item(rt, media_root, fake_provider, "Hate Symbols", 95)
    ours = tenant_item(rt, media_root, fake_provider, "Explicit", 92)
    theirs = tenant_item(rt, media_root, fake_provider, "Hate Symbols", 96, tenant_id=other)
    tenant_item(rt, media_root, fake_provider, None)  # approved: no statement
    with transaction(rt.settings.database_url) as s:
        s.execute(update(Statement).where(Statement.item_id == old)
                  .values(created_at=utcnow() - timedelta(days=40)))
    return {"old": old, "ours": ours, "theirs": theirs}


def by_puid(rt) -> dict[str, Statement]:
    return {row.puid: row for row in statements(rt)}


def export(*args: str):
    result = runner.invoke(app, ["transparency", "export", *args])
    return result


def test_ndjson_is_the_stored_bodies_with_puid_and_state(cli_env, seeded):
    result = export("--since", "30d", "--format", "ndjson")

    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    stored = by_puid(cli_env)
    [line] = lines  # the default tenant's one of the last 30 days
    row = stored[line["puid"]]
    assert row.item_id == seeded["ours"]
    assert line == {**row.body, "puid": row.puid, "state": "pending"}


def test_csv_flattens_each_field_and_joins_lists(cli_env, seeded, tmp_path):
    out = tmp_path / "statements.csv"
    result = export("--since", "60d", "--format", "csv", "--out", str(out))

    assert result.exit_code == 0, result.stderr
    assert "exported 2 statements" in result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    stored = by_puid(cli_env)
    assert [stored[r["puid"]].item_id for r in rows] == [seeded["old"], seeded["ours"]]  # oldest first
    for r in rows:
        body = stored[r["puid"]].body
        assert r["state"] == "pending" and r["category"] == body["category"]
        assert r["territorial_scope"] == ",".join(body["territorial_scope"])
        assert r["decision_visibility"] == ",".join(body["decision_visibility"])
        assert r["decision_facts"] == body["decision_facts"]
        assert all(r[k] == (",".join(v) if isinstance(v, list) else str(v)) for k, v in body.items())


@pytest.mark.parametrize("tenant, expected", [("other", ["theirs"]), ("*", ["ours", "theirs"])])
def test_the_tenant_option_picks_whose_statements(cli_env, seeded, tenant, expected):
    result = export("--since", "30d", "--tenant", tenant)

    assert result.exit_code == 0, result.stderr
    stored = by_puid(cli_env)
    items = sorted(stored[json.loads(line)["puid"]].item_id for line in result.stdout.splitlines())
    assert items == sorted(seeded[k] for k in expected)


def test_an_iso_date_is_a_since(cli_env, seeded):
    since = (utcnow() - timedelta(days=50)).date().isoformat()
    result = export("--since", since)
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2


@pytest.mark.parametrize("args, message", [
    (["--since", "soon"], "--since expects an ISO 8601 time or a duration"),
    (["--since", "30x"], "--since expects an ISO 8601 time or a duration"),
    (["--since", "30d", "--format", "xml"], "--format"),
    (["--since", "30d", "--tenant", "nobody"], "nobody"),
    (["--since", "30d", "--out", "/no/such/dir/x.csv"], "--out: /no/such/dir is no directory"),
])
def test_bad_options_are_usage_errors_and_write_nothing(cli_env, seeded, args, message):
    result = export(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_since_is_required(cli_env):
    result = export("--format", "csv")
    assert result.exit_code == 2 and "--since" in result.stderr


def test_a_since_with_an_offset_is_read_in_utc():
    """SQLite drops an offset when it binds a time: 02:30+02:00 must reach the query as 00:30 UTC."""
    from datetime import timezone

    from moderation.cli.items_retry import parse_since

    since = parse_since("2026-11-30T02:30:00+02:00")
    assert since.tzinfo == timezone.utc and since.isoformat() == "2026-11-30T00:30:00+00:00"
