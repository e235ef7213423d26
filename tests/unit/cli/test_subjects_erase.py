"""`modq subjects erase ID --tenant T [--json]` (issue 19.2)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.domain.tenancy import DEFAULT_TENANT_ID
from moderation.items import models as m
from tests.erasure_items import HOLD_REASON, rows, scan, seed

runner = CliRunner()


def test_subjects_erase_prints_the_report(cli_env):
    seeded = seed(cli_env, DEFAULT_TENANT_ID)

    result = runner.invoke(app, ["subjects", "erase", seeded.subject, "--tenant", "default", "--json"])

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert len(report["erased"]) == 6 and report["pending"] == [seeded.items["processing"]]
    assert report["held"] == [{"item_id": seeded.items["held"], "reason": HOLD_REASON}]
    assert scan(cli_env, seeded.personal("approved", "failed")) == set()
    entries = [e for e in rows(cli_env, m.AuditEvent) if e.action == m.AuditAction.ERASE]
    assert {e.actor for e in entries} == {entries[0].actor} and entries[0].actor.startswith("cli:")

    plain = runner.invoke(app, ["subjects", "erase", seeded.subject])
    assert plain.exit_code == 0, plain.stderr
    assert "erased 0 items of the subject (tenant default), 1 held, 0 pending" in plain.stdout
    assert f"held {seeded.items['held']}: {HOLD_REASON}" in plain.stdout


def test_subjects_erase_refuses_unknown_and_bad_ids(cli_env):
    seeded = seed(cli_env, DEFAULT_TENANT_ID)
    before = scan(cli_env, [seeded.subject])

    unknown = runner.invoke(app, ["subjects", "erase", "nobody"])
    bad = runner.invoke(app, ["subjects", "erase", "bell\x07"])
    other = runner.invoke(app, ["subjects", "erase", seeded.subject, "--tenant", "nope"])

    assert unknown.exit_code == 1 and "no items with subject_id 'nobody'" in unknown.stderr
    assert bad.exit_code == 2 and "printable characters" in bad.stderr
    assert other.exit_code == 2 and "nope" in other.stderr
    assert scan(cli_env, [seeded.subject]) == before
    assert [e for e in rows(cli_env, m.AuditEvent) if e.action == m.AuditAction.ERASE] == []
