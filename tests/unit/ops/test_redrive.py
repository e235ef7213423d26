"""Re-driving failed items: `modq items retry` and moderation.ops.redrive (SQLite, fakes)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from moderation.ops import redrive
from moderation.items import services as service
from moderation.cli.main import app
from moderation.cli.items_retry import parse_since
from moderation.domain.errors import DeploymentFault
from moderation.items import models as m
from moderation.alerts.models import Alert
from moderation.infra.db import transaction
from tests.conftest import jpeg_bytes
from tests.fakes.providers import labels_for

runner = CliRunner()


def failed_item(rt, media_root, name: str, error=None) -> str:
    data = jpeg_bytes(color=(len(name) * 20 % 255, 10, 10))
    (media_root / name).write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    rt._provider.errors[digest] = error or DeploymentFault("IAM denied rekognition:DetectModerationLabels (fake)")
    item_id = service.submit(name, rt=rt).item_id
    assert service.process_image(item_id, rt=rt) == "failed"
    rt._provider.errors.pop(digest)
    rt._provider.by_key[digest] = labels_for("Hate Symbols", 66)
    return item_id


def row(rt, item_id) -> m.Item:
    with transaction(rt.settings.database_url) as s:
        return s.get(m.Item, item_id)


def test_redrive_requeues_sends_and_keeps_the_old_reason_in_the_audit_trail(rt, media_root):
    item_id = failed_item(rt, media_root, "a.jpg")
    rt.dispatcher.sent.clear()
    result = redrive.redrive([item_id], rt)
    assert (result.queued, result.unsent, result.skipped) == ([item_id], [], {})
    assert rt.dispatcher.sent == [(item_id, "image")]
    item = row(rt, item_id)
    assert (item.status, item.failure_reason, item.decided_at) == ("queued", None, None)
    with transaction(rt.settings.database_url) as s:
        event = s.scalars(select(m.AuditEvent).where(m.AuditEvent.item_id == item_id)
                          .order_by(m.AuditEvent.id.desc())).first()
    assert (event.action, event.actor, event.from_status, event.to_status) == ("retry", "cli", "failed", "queued")
    assert "had failed: IAM denied" in event.reason
    assert service.process_image(item_id, rt=rt) == "flagged"


def test_a_redrive_starts_the_attempt_count_again_and_the_trail_keeps_the_old_one(rt, media_root):
    item_id = failed_item(rt, media_root, "g.jpg")
    with transaction(rt.settings.database_url) as s:  # as a poison item leaves it
        s.get(m.Item, item_id).attempts = rt.settings.max_attempts
    redrive.redrive([item_id], rt)
    assert row(rt, item_id).attempts == 0  # `modq items show` no longer says 5 beside a fresh budget
    with transaction(rt.settings.database_url) as s:
        event = s.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "retry")).one()
    assert event.reason.startswith("re-driven after 5 attempts; had failed: IAM denied")
    assert service.process_image(item_id, rt=rt) == "flagged"
    assert row(rt, item_id).attempts == 1


def test_failing_again_after_a_redrive_raises_a_new_deployment_alert(rt, media_root):
    item_id = failed_item(rt, media_root, "b.jpg")
    redrive.redrive([item_id], rt)
    digest = next(iter(rt._provider.by_key))
    rt._provider.errors[digest] = DeploymentFault("still denied (fake)")
    assert service.process_image(item_id, rt=rt) == "failed"
    with transaction(rt.settings.database_url) as s:
        ids = sorted(s.scalars(select(Alert.dedup_id).where(Alert.item_id == item_id)))
    assert ids == [f"{item_id}:deployment", f"{item_id}:deployment:2"]


def test_only_failed_items_are_redriven(rt, media_root):
    item_id = failed_item(rt, media_root, "c.jpg")
    redrive.redrive([item_id], rt)
    service.process_image(item_id, rt=rt)
    result = redrive.redrive([item_id, "no-such-item"], rt)
    assert result.queued == [] and result.skipped == {
        item_id: "status is flagged; only failed items can be retried", "no-such-item": "no such item"}


def test_a_broker_that_refuses_leaves_the_item_queued_for_the_reaper(rt, media_root):
    item_id = failed_item(rt, media_root, "d.jpg")

    class DownDispatcher:
        def moderate(self, item_id, media_type):
            raise ConnectionError("redis is down")

    rt.dispatcher = DownDispatcher()
    result = redrive.redrive([item_id], rt)
    assert result.unsent == [item_id] and row(rt, item_id).status == "queued"


def test_cli_retry_by_reference_and_all_failed(cli_env, media_root):
    first = failed_item(cli_env, media_root, "e.jpg")
    second = failed_item(cli_env, media_root, "ff.jpg")
    one = runner.invoke(app, ["items", "retry", first[:8], "--json"])
    assert one.exit_code == 0, one.output
    assert json.loads(one.stdout.splitlines()[-1]) == {"queued": [first], "unsent": [], "skipped": {}}
    rest = runner.invoke(app, ["items", "retry", "--all-failed", "--since", "1h"])
    assert rest.exit_code == 0 and "re-queued 1 item(s)" in rest.stdout and second in rest.stdout
    none = runner.invoke(app, ["items", "retry", "--all-failed"])
    assert none.exit_code == 0 and "no failed items to retry" in none.stdout
    again = runner.invoke(app, ["items", "retry", first])
    assert again.exit_code == 1 and f"skipped {first}: status is queued; only failed items can be retried" in again.stderr


@pytest.mark.parametrize("args, message", [
    (["items", "retry"], "name the items to retry, or use --all-failed (not both)"),
    (["items", "retry", "x", "--all-failed"], "name the items to retry, or use --all-failed (not both)"),
    (["items", "retry", "x", "--since", "1h"], "--since goes with --all-failed"),
    (["items", "retry", "--all-failed", "--since", "yesterday"],
     "--since expects an ISO 8601 time or a duration like 30m, 2h, 7d; got 'yesterday'"),
])
def test_cli_retry_refusals_exit_2_with_reason(cli_env, args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and message in result.stderr


def test_parse_since():
    now = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
    assert parse_since("30m", now) == now - timedelta(minutes=30)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("2026-11-21T08:00", now) == datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc)
    offset = parse_since("2026-11-21T08:00+01:00", now)  # the same instant, in UTC: SQLite drops an offset
    assert (offset, offset.utcoffset()) == (datetime(2026, 11, 21, 7, 0, tzinfo=timezone.utc), timedelta(0))


def test_an_ambiguous_id_prefix_is_skipped_naming_its_items_and_the_others_go(rt, media_root):
    named = failed_item(rt, media_root, "a.jpg")
    twins = [f"beef{n}000-0000-4000-8000-00000000000{n}" for n in (1, 2)]
    with transaction(rt.settings.database_url) as s:
        s.add_all(m.Item(id=i, media_uri="b.jpg", media_type="image", status=m.FAILED) for i in twins)
    rt.dispatcher.sent.clear()
    result = redrive.redrive(["beef", named], rt)
    assert result.queued == [named] and rt.dispatcher.sent == [(named, "image")]
    assert result.skipped == {"beef": f"id prefix 'beef' matches several items: {twins[0]}, {twins[1]}; give more "
                                      "characters"}
    assert [row(rt, i).status for i in twins] == ["failed", "failed"]
