"""`modq transparency status`: counts by state with the pending ones split by why, the rejected ones with the
database's field errors (from a real 422 of the fake database), one tenant or every one."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import update
from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.transparency import submission
from moderation.transparency.models import Statement
from tests.fakes.transparency_db import FakeTransparencyDatabase
from tests.statement_rows import add_statements

runner = CliRunner()


def seed(rt, make_settings) -> dict[str, list[str]]:
    """acme: 2 sent, 1 rejected, 1 held; default: 1 waiting for a retry (an outage), 1 due since 2 hours."""
    url = rt.settings.database_url
    acme = add_statements(url, 3, tenant="acme", invalid=frozenset({1}))
    with FakeTransparencyDatabase(token="t") as fake:
        settings = make_settings(dsa_tdb_url=fake.url, dsa_tdb_token="t", dsa_tdb_requests_per_second=200)
        assert submission.send_due(settings).rejected == 1
        held = add_statements(url, 1, tenant="acme", hold_until=utcnow() + timedelta(hours=1))
        waiting = add_statements(url, 1)
        fake.fail_next(1)
        assert submission.send_due(settings).waiting == 1
    due = add_statements(url, 1, created_at=utcnow() - timedelta(hours=2))
    return {"acme": acme, "held": held, "waiting": waiting, "due": due}


def test_counts_pending_reasons_and_rejections(cli_env, make_settings):
    puids = seed(cli_env, make_settings)
    result = runner.invoke(app, ["transparency", "status", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["counts"] == {"pending": 3, "sent": 2, "rejected": 1, "withdrawn": 0}
    assert report["pending"] == {"due": 1, "held": 1, "waiting": 1}
    assert report["oldest_pending_seconds"] >= 7200
    [rejected] = report["rejected"]
    assert (rejected["puid"], rejected["tenant"]) == (puids["acme"][1], "acme")
    assert rejected["errors"] == {"category": ["The selected category is invalid."]}
    assert report["submission"] == {"url": None, "enabled": False}  # this command's settings: none set


def test_one_tenant_counts_its_own_only(cli_env, make_settings):
    seed(cli_env, make_settings)
    report = json.loads(runner.invoke(app, ["transparency", "status", "--tenant", "default", "--json"]).stdout)
    assert report["counts"] == {"pending": 2, "sent": 0, "rejected": 0, "withdrawn": 0}
    assert report["rejected"] == []  # acme's rejection is not another tenant's to see


def test_the_text_report_names_each_rejection_and_its_reason(cli_env, make_settings):
    puids = seed(cli_env, make_settings)
    with transaction(cli_env.settings.database_url) as s:
        s.execute(update(Statement).where(Statement.puid == puids["due"][0]).values(state="withdrawn"))
    result = runner.invoke(app, ["transparency", "status"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "MODQ_DSA_TDB_URL is not set" in text
    assert "due 0, held 1, waiting for a retry 1" in text
    assert f"rejected {puids['acme'][1]} (tenant acme): category: The selected category is invalid." in text


def test_an_unknown_tenant_is_named(cli_env):
    result = runner.invoke(app, ["transparency", "status", "--tenant", "nobody"])
    assert result.exit_code == 2 and "nobody" in result.stderr


def test_nothing_yet(cli_env):
    report = json.loads(runner.invoke(app, ["transparency", "status", "--json"]).stdout)
    assert report["counts"] == {"pending": 0, "sent": 0, "rejected": 0, "withdrawn": 0}
    assert report["oldest_pending_seconds"] is None and report["rejected"] == []
