"""`modq bank add|remove|list`, and reviewer rejections feeding the bank (MODQ_BANK_REVIEWER_REJECTIONS)."""

from __future__ import annotations

import hashlib
import json

import pytest
from typer.testing import CliRunner

from moderation.review import services as review
from moderation.items import services as service
from moderation.cli.main import app
from moderation.items import models as m
from moderation.infra.db import transaction
from moderation.domain.tenancy import DEFAULT_TENANT_ID
from tests.conftest import jpeg_bytes
from tests.review_items import decided_item
from tests.unit.items.test_pay_once import scene

runner = CliRunner()


def bank_list(**flags) -> list[dict]:
    result = runner.invoke(app, ["bank", "list", "--json", *[f"--{k}" for k, v in flags.items() if v]])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_add_a_file_then_the_same_bytes_are_rejected_without_a_call(cli_env, media_root, fake_provider):
    data = scene()
    (media_root / "known-bad.jpg").write_bytes(data)
    added = runner.invoke(app, ["bank", "add", "known-bad.jpg", "--verdict", "rejected", "--note", "NCMEC list"])
    assert added.exit_code == 0, added.output
    key = hashlib.sha256(data).hexdigest()
    assert f"bank entry #1 added: {key} -> rejected (with a PDQ hash" in added.stdout
    (media_root / "upload.jpg").write_bytes(data)
    item_id = service.submit("upload.jpg", rt=cli_env).item_id
    assert service.process_image(item_id, rt=cli_env) == "rejected"
    assert fake_provider.calls == []
    [entry] = bank_list()
    assert (entry["content_key"], entry["verdict"], entry["note"], entry["pdq"]) == (key, "rejected", "NCMEC list", True)
    shown = json.loads(runner.invoke(app, ["items", "show", item_id, "--json"]).stdout)
    assert shown["reasons"] == ["hash bank entry #1 (rejected, same content): NCMEC list"]


def test_add_by_item_id_and_by_content_key(cli_env, media_root, fake_provider):
    item_id = decided_item(cli_env, media_root, fake_provider, label=None)
    with transaction(cli_env.settings.database_url) as s:
        key = s.get(m.Item, item_id).content_key
    by_item = runner.invoke(app, ["bank", "add", item_id, "--verdict", "approved"])
    assert by_item.exit_code == 0 and f"#1 added: {key} -> approved" in by_item.stdout
    again = runner.invoke(app, ["bank", "add", key, "--verdict", "approved"])
    assert again.exit_code == 0 and "#1 already banked" in again.stdout
    s3_key = "s3:uploads/u/7/cat.jpg@3HL4kqtJlcpXroDTDmJ"
    assert runner.invoke(app, ["bank", "add", s3_key, "--verdict", "rejected"]).exit_code == 0
    assert [e["content_key"] for e in bank_list()] == [s3_key, key]


def test_remove_keeps_the_row_and_stops_deciding(cli_env):
    key = "a" * 64
    runner.invoke(app, ["bank", "add", key, "--verdict", "rejected"])
    removed = runner.invoke(app, ["bank", "remove", "1"])
    assert removed.exit_code == 0 and f"removed: {key}" in removed.stdout
    assert bank_list() == []
    assert [e["removed_at"] is not None for e in bank_list(all=True)] == [True]
    again = runner.invoke(app, ["bank", "remove", "1"])
    assert again.exit_code == 1 and "no active bank entry #1" in again.output


@pytest.mark.parametrize("args, message", [
    (["bank", "add", "a" * 64, "--verdict", "flagged"], "'flagged' is not one of 'rejected', 'approved'"),
    (["bank", "add", "missing.jpg", "--verdict", "rejected"], "no such file"),
    (["bank", "add", "../etc/passwd", "--verdict", "rejected"], "contains '..'"),
    (["bank", "add", "a" * 64], "Missing option '--verdict'"),
])
def test_add_refusals_name_the_problem(cli_env, args, message):
    result = runner.invoke(app, args)
    shown = " ".join(result.output.replace("│", " ").split())  # typer's error box, unwrapped
    assert result.exit_code == 2 and message in shown
    assert bank_list() == []


def test_add_refuses_an_item_not_decided_yet(cli_env, media_root):
    (media_root / "a.jpg").write_bytes(jpeg_bytes())
    item_id = service.submit("a.jpg", rt=cli_env).item_id
    result = runner.invoke(app, ["bank", "add", item_id, "--verdict", "rejected"])
    assert result.exit_code == 2 and "has no content key yet (status queued)" in result.output


@pytest.mark.parametrize("enabled", [True, False])
def test_reviewer_rejections_feed_the_bank_when_configured(make_settings, rt, media_root, fake_provider, enabled):
    rt.settings = make_settings(bank_reviewer_rejections=enabled)
    item_id = decided_item(rt, media_root, fake_provider, "Hate Symbols", 70)
    review.claim(rt, "alice", item_id=item_id)
    review.review(rt, item_id, "alice", "rejected", "hate symbol on a flag")
    with transaction(rt.settings.database_url) as s:
        key = s.get(m.Item, item_id).content_key
    from moderation.items.banks import services as banks

    with transaction(rt.settings.database_url) as s:
        entry = banks.active(s, key, DEFAULT_TENANT_ID)  # the item's tenant's entry (issue 16), not a global one
        found = (entry.verdict, entry.source, entry.added_by, entry.note) if entry else None
    expected = ("rejected", f"review:{item_id}", "alice", "rejected in review by alice: hate symbol on a flag")
    assert found == (expected if enabled else None)


def test_import_a_csv_names_bad_rows_exits_1_and_a_rerun_adds_nothing(cli_env, tmp_path):
    (tmp_path / "sticker.jpg").write_bytes(scene())
    (tmp_path / "list.csv").write_text(f"path,content_key,verdict,note\nsticker.jpg,,approved,known-good\n"
                                       f",{'a' * 64},,\n,{'b' * 64},maybe,\nmissing.jpg,,,\n")
    result = runner.invoke(app, ["bank", "import", str(tmp_path / "list.csv"), "--verdict", "rejected"])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        "error: line 4: bank verdict must be one of rejected, approved, not 'maybe'",
        "error: line 5 (missing.jpg): no such file"]
    assert result.stdout.strip() == f"{tmp_path / 'list.csv'}: added 2, 0 already banked, 2 failed"
    assert {(e["content_key"], e["verdict"], e["note"]) for e in bank_list()} == {
        (hashlib.sha256(scene()).hexdigest(), "approved", "known-good"), ("a" * 64, "rejected", "")}
    again = runner.invoke(app, ["bank", "import", str(tmp_path / "list.csv"), "--verdict", "rejected", "--json"])
    assert again.exit_code == 1 and json.loads(again.stdout) == {
        "added": 0, "already_banked": 2, "dry_run": False, "failed": [
            {"where": "line 4", "reason": "bank verdict must be one of rejected, approved, not 'maybe'"},
            {"where": "line 5 (missing.jpg)", "reason": "no such file"}]}
    assert len(bank_list()) == 2


def test_import_a_directory_dry_run_then_for_real(cli_env, tmp_path):
    (tmp_path / "bad" / "more").mkdir(parents=True)
    (tmp_path / "bad" / "one.jpg").write_bytes(scene())
    (tmp_path / "bad" / "more" / "two.jpg").write_bytes(jpeg_bytes())
    dry = runner.invoke(app, ["bank", "import", str(tmp_path / "bad"), "--verdict", "rejected", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would add 2, 0 already banked, 0 failed (dry run: nothing stored)" in dry.stdout and bank_list() == []
    real = runner.invoke(app, ["bank", "import", str(tmp_path / "bad"), "--verdict", "rejected", "--note", "list 7"])
    assert real.exit_code == 0 and "added 2, 0 already banked, 0 failed" in real.stdout, real.output
    assert [(e["verdict"], e["note"], e["source"], e["added_by"].startswith("cli:")) for e in bank_list()] == [
        ("rejected", "list 7", "import:bad", True)] * 2


@pytest.mark.parametrize("args, message", [
    (["bank", "import", "{tmp}/bad"], "importing a directory needs --verdict"),
    (["bank", "import", "{tmp}/bad", "--verdict", "flagged"], "Invalid value for '--verdict'"),
    (["bank", "import", "{tmp}/nothing"], "is neither a directory nor a file"),
    (["bank", "import", "{tmp}/bad/one.jpg", "--verdict", "rejected"], "give a directory of media files or a .csv"),
])
def test_import_refusals_name_the_problem_and_store_nothing(cli_env, tmp_path, args, message):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "one.jpg").write_bytes(scene())
    result = runner.invoke(app, [a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 2 and message in result.output, result.output
    assert bank_list() == []
