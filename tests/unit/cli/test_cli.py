"""The modq command: submit, items list/show, policy validate, db upgrade."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from moderation.items import services as service
from moderation.cli.main import app
from tests.conftest import jpeg_bytes
from tests.fakes.providers import labels_for

runner = CliRunner()


def test_submit_json_then_resubmit(cli_env, media_root):
    (media_root / "a.jpg").write_bytes(jpeg_bytes())
    first = runner.invoke(app, ["submit", "a.jpg", "--external-id", "e1", "-m", "user=7", "--json"])
    assert first.exit_code == 0, first.output
    body = json.loads(first.stdout)
    assert body["created"] and body["status"] == "queued"
    again = runner.invoke(app, ["submit", "a.jpg", "--external-id", "e1"])
    assert again.exit_code == 0 and "already known" in again.stdout and body["item_id"] in again.stdout
    assert len(cli_env.dispatcher.sent) == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["submit", "../outside.jpg"], "contains '..'"),
        (["submit", "gopher://x/y.jpg"], "unsupported URI scheme"),
        (["submit", "a.jpg", "-m", "novalue"], "--metadata expects key=value"),
        (["submit", "missing.jpg"], "no such file"),
    ],
)
def test_submit_refusals_exit_2_with_reason(cli_env, media_root, args, message):
    (media_root / "a.jpg").write_bytes(jpeg_bytes())
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and message in result.stderr


def test_items_list_and_show(cli_env, media_root, fake_provider):
    import hashlib

    data = jpeg_bytes()
    (media_root / "a.jpg").write_bytes(data)
    fake_provider.by_key[hashlib.sha256(data).hexdigest()] = labels_for("Hate Symbols", 66)
    item_id = service.submit("a.jpg", external_id="post-1", rt=cli_env).item_id
    service.process_image(item_id, rt=cli_env)

    listed = runner.invoke(app, ["items", "list", "--json"])
    (view,) = json.loads(listed.stdout)
    assert view["id"] == item_id and view["verdict"] == "flagged"
    assert view["reasons"] == ["Hate Symbols 66.0% >= flag 50 (rule: Hate Symbols)"]
    assert {lab["Name"] for lab in view["labels"]} == {"Hate Symbols"}
    assert view["policy_version"] == cli_env.policy.version

    shown = runner.invoke(app, ["items", "show", "post-1"])
    assert shown.exit_code == 0 and "flagged" in shown.stdout and "rule: Hate Symbols" in shown.stdout
    by_prefix = runner.invoke(app, ["items", "show", item_id[:8], "--json"])
    assert json.loads(by_prefix.stdout)["id"] == item_id
    missing = runner.invoke(app, ["items", "show", "nope"])
    assert missing.exit_code == 1 and "no item" in missing.stderr


def test_policy_validate(cli_env, tmp_path):
    good = runner.invoke(app, ["policy", "validate"])
    assert good.exit_code == 0 and cli_env.policy.version in good.stdout
    bad = tmp_path / "t.yaml"
    bad.write_text("labels: {Explicit: {flag: 150}}")
    result = runner.invoke(app, ["policy", "validate", str(bad)])
    assert result.exit_code == 2 and "labels.Explicit.flag: 150 is outside 0-100" in result.stderr
    old = tmp_path / "old.yaml"
    old.write_text("labels: {Suggestive: {flag: 70}}")
    warned = runner.invoke(app, ["policy", "validate", str(old)])
    assert warned.exit_code == 0 and "v6.1" in warned.stderr


def test_db_upgrade_is_idempotent(cli_env):
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
