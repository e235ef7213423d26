"""`modq webhooks add|list|remove|rotate-secret|deliveries|redeliver` against SQLite."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from moderation.alerts import delivery, fanout
from moderation.cli.main import app
from moderation.infra.db import transaction
from moderation.tenants import services as tenants
from tests.unit.alerts.webhook_fakes import POLICY, START, Clock, FakeTransport, outbox_alert, resolver

runner = CliRunner()


def test_add_prints_the_secret_once_and_list_never_shows_it(cli_env):
    tenants.create(cli_env.settings.database_url, "kids-forum", "test")
    plain = runner.invoke(app, ["webhooks", "add", "--tenant", "kids-forum", "--url", "https://kids.example.com/h",
                                "--events", "item.decided,subject.flagged"])
    assert plain.exit_code == 0, plain.output
    assert plain.stdout.startswith("whsec_") and plain.stdout.count("\n") == 1
    assert "Store the secret now" in plain.stderr
    made = runner.invoke(app, ["webhooks", "add", "--url", "https://default.example.com/h", "--json"])
    row = json.loads(made.stdout)
    assert row["secret"].startswith("whsec_") and row["tenant"] == "default" and row["created_by"].startswith("cli:")

    listed = runner.invoke(app, ["webhooks", "list", "--json"])
    assert "whsec_" not in listed.stdout
    assert [(r["tenant"], r["events"]) for r in json.loads(listed.stdout)] == [
        ("kids-forum", ["item.decided", "subject.flagged"]), ("default", row["events"])]
    only = json.loads(runner.invoke(app, ["webhooks", "list", "--tenant", "default", "--json"]).stdout)
    assert [r["id"] for r in only] == [row["id"]]
    assert runner.invoke(app, ["webhooks", "list"]).exit_code == 0


def test_rotate_remove_deliveries_and_redeliver(cli_env):
    url = cli_env.settings.database_url
    row = json.loads(runner.invoke(app, ["webhooks", "add", "--url", "https://h.example.com/", "--json"]).stdout)
    rotated = runner.invoke(app, ["webhooks", "rotate-secret", row["id"], "--overlap", "2h"])
    assert rotated.exit_code == 0 and rotated.stdout.startswith("whsec_") and rotated.stdout.strip() != row["secret"]
    assert "the old one also signs until" in rotated.stderr
    bad = runner.invoke(app, ["webhooks", "rotate-secret", row["id"], "--overlap", "soon"])
    assert bad.exit_code == 2 and bad.stderr.startswith("error: overlap: 'soon' is not a duration")

    with transaction(url) as s:
        (delivery_id,) = fanout.fan_out(s, [outbox_alert(url)], START)
    delivery.send(url, delivery_id, POLICY, FakeTransport([500]), Clock(), resolver())
    shown = json.loads(runner.invoke(app, ["webhooks", "deliveries", "--endpoint", row["id"], "--json"]).stdout)
    assert [(d["id"], d["state"], d["attempt_log"][0]["status_code"]) for d in shown] == [(delivery_id, "pending", 500)]
    assert runner.invoke(app, ["webhooks", "deliveries"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["webhooks", "deliveries", "--failed", "--json"]).stdout) == []

    again = runner.invoke(app, ["webhooks", "redeliver", str(delivery_id)])
    assert again.exit_code == 0 and cli_env.dispatcher.webhooks == [delivery_id]
    assert runner.invoke(app, ["webhooks", "redeliver", "999"]).exit_code == 1

    removed = runner.invoke(app, ["webhooks", "remove", row["id"]])
    assert removed.exit_code == 0 and f"removed webhook endpoint {row['id']}" in removed.stdout
    failed = json.loads(runner.invoke(app, ["webhooks", "deliveries", "--failed", "--json"]).stdout)
    assert [(d["id"], d["last_error"]) for d in failed] == [(delivery_id, "endpoint removed")]
    gone = runner.invoke(app, ["webhooks", "remove", row["id"]])
    assert gone.exit_code == 1 and gone.stderr.startswith(f"error: no webhook endpoint '{row['id']}'")
