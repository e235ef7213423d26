"""Retention (issue 19.1) on SQLite: a seeded tenant ages past its retention (``now`` in the future, no
sleeping), the purge runs in batches of 3, and a scan of every text and JSON column of every table finds no
seeded personal value but the held item's, and reviewers' reasons inside statements of reasons (sent as they
are: the statement keeps "the fields already sent"). Counts in ``modq stats`` and the transparency report do
not move; what is within retention, still in moderation, or held stays; a dry run changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import structlog.testing
from sqlalchemy import select
from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.domain.tenancy import EVERY_TENANT, Scope
from moderation.infra.db import transaction
from moderation.infra.schema import Base
from moderation.items import models as m
from moderation.ops.stats import SECTIONS, collect
from moderation.policy import versions
from moderation.privacy import retention
from moderation.review import appeals
from moderation.tenants import services as tenants
from moderation.transparency import report as transparency_report
from tests.retention_seed import age, later, scan, seed, status_of
from tests.review_items import decided_item
from tests.transparency_items import tenant_item, trusted_flaggers  # noqa: F401 (an autouse fixture)
import worker.tasks  # noqa: F401,E402 (registers the tasks)
from worker.app import ROUTES, app as celery_app

runner = CliRunner()
# What a statement of reasons carries as sent (its decision facts): the reviewer's and appeal decider's words.
SENT_IN_STATEMENTS = ("pv-reason-", "pv-appeal-reason-")


@pytest.fixture
def seeded(rt, media_root, fake_provider):
    return seed(rt, media_root, fake_provider)


def values(seeded, *states: str) -> list[str]:
    return [v for state in (states or seeded.personal) for v in seeded.personal[state]]


def dump(url: str) -> dict[str, list]:
    with transaction(url) as s:
        return {t.name: sorted(map(repr, s.execute(select(t)).all())) for t in Base.metadata.sorted_tables}


def test_past_retention_every_personal_value_is_gone_but_the_held_items(rt, seeded):
    url = rt.settings.database_url
    report = retention.purge(rt, now=later(400), batch=3)

    left = scan(url, values(seeded))
    held = set(values(seeded, "held"))
    queued = set(values(seeded, "queued"))
    assert {v for _, _, v in left} >= held | queued  # held and in-moderation items stay
    unexpected = [x for x in left if x[2] not in held | queued
                  and not (x[:2] == ("statements", "body") and x[2].startswith(SENT_IN_STATEMENTS))]
    assert unexpected == []
    assert report.batches >= 4 and report.total == 10  # all but the held and the queued item
    assert [(x.item_id, x.why) for x in report.skipped] == [(seeded.ids["held"], "legal hold 1: court order 42")]
    assert report.purged[("default", retention.ERASE_RULE)] == 1


def test_a_purge_keeps_verdicts_labels_and_statements_and_says_why_in_the_trail(rt, seeded):
    url = rt.settings.database_url
    retention.purge(rt, now=later(400), batch=3)
    with transaction(url) as s:
        item = s.get(m.Item, seeded.ids["rejected"])
        assert (item.status, item.verdict, item.purge_cause, item.media_uri) == ("rejected", "rejected",
                                                                               "retention", "[purged]")
        assert item.external_id is not None and item.subject_id is None and item.item_metadata == {}
        assert s.get(m.Analysis, item.analysis_id).labels  # the labels and confidences stay
        trail = s.scalars(select(m.AuditEvent).where(m.AuditEvent.item_id == item.id,
                                                     m.AuditEvent.action == "purge")).all()
        assert [(e.actor, e.reason) for e in trail] == [("retention", "flagged_rejected_days 180")]
        erased = s.get(m.Item, seeded.ids["erase-requested"])
        assert (erased.purge_cause, erased.external_id, erased.erase_requested_at) == ("erasure", None, None)
        assert s.scalar(select(m.AuditEvent.action).where(m.AuditEvent.item_id == erased.id,
                                                          m.AuditEvent.actor == "retention")) == "erase"


def test_within_retention_only_what_is_due_goes(rt, seeded):
    url = rt.settings.database_url
    report = retention.purge(rt, now=later(31), batch=3)  # approved: 30 days; everything else: 180
    assert {rule for (_, rule), n in report.purged.items() if n} == {"approved_days", retention.ERASE_RULE}
    assert status_of(url, seeded.ids["approved"])[1] is not None
    kept = [s for s in seeded.personal if s not in ("approved", "video", "erase-requested")]
    assert {v for _, _, v in scan(url, values(seeded, *kept))} == set(values(seeded, *kept))


def test_an_item_in_moderation_is_never_purged(rt, seeded):
    retention.purge(rt, now=later(5000), batch=3)
    assert status_of(rt.settings.database_url, seeded.ids["queued"]) == ("queued", None)


def test_a_dry_run_changes_nothing_and_counts_what_the_run_then_purges(rt, seeded):
    url = rt.settings.database_url
    before = dump(url)
    dry = retention.purge(rt, now=later(400), batch=3, dry_run=True)
    assert dump(url) == before
    real = retention.purge(rt, now=later(400), batch=3)
    assert dry.purged == real.purged and dry.skipped == real.skipped and dry.total == 10


def test_a_second_run_purges_nothing_new_and_still_reports_the_hold(rt, seeded):
    url = rt.settings.database_url
    retention.purge(rt, now=later(400), batch=3)
    after_first = dump(url)
    again = retention.purge(rt, now=later(401), batch=3)
    assert again.total == 0 and len(again.skipped) == 1
    assert dump(url) == after_first


def test_stats_and_the_transparency_report_give_the_same_totals_before_and_after(rt, seeded):
    url = rt.settings.database_url
    period = transparency_report.Period(start=later(-1), end=later(1), scope=EVERY_TENANT, tenant="*")

    def figures():
        sections = collect(rt.settings, timedelta(days=1), ("images",), [f for f in SECTIONS if f.__name__ !=
                                                                         "queues"])
        stats = {s.key: s.data for s in sections if s.error is None}
        stats["items"].pop("oldest_in_flight_seconds")  # ages, measured against the wall clock
        stats["outbox"].pop("oldest_seconds")
        report = transparency_report.build(url, period)
        return stats, report.summary, {name: t.rows for name, t in report.tables.items()}

    before = figures()
    retention.purge(rt, now=later(400), batch=3)
    assert figures() == before


def test_each_tenant_keeps_for_as_long_as_its_own_policy_says(rt, make_settings, media_root, fake_provider):
    rt.settings = make_settings(policy_refresh_seconds=0)
    other = tenants.create(rt.settings.database_url, "forum", "cli:admin")["id"]
    text = Path(rt.settings.thresholds).read_text() + "\nretention:\n  approved_days: 365\n"
    versions.apply(rt.settings.database_url, text, tenant_id=other)
    mine, theirs = tenant_item(rt, media_root, fake_provider, None), tenant_item(rt, media_root, fake_provider,
                                                                                 None, tenant_id=other)
    only_theirs = retention.purge(rt, now=later(400), tenant_id=other)
    assert status_of(rt.settings.database_url, mine)[1] is None  # --tenant: the other tenant's items only
    assert only_theirs.purged[("forum", "approved_days")] == 1
    report = retention.purge(rt, now=later(100))
    assert report.purged[("default", "approved_days")] == 1 and report.purged[("forum", "approved_days")] == 0
    assert status_of(rt.settings.database_url, theirs)[1] is not None


def test_a_pending_appeal_holds_the_purge_back_until_it_is_decided(rt, media_root, fake_provider):
    item_id = decided_item(rt, media_root, fake_provider, "Hate Symbols", 95)
    appeals.file(rt, item_id, "please look again", None, "forum (token 1)", scope=Scope(frozenset({1})))
    report = retention.purge(rt, now=later(400))
    assert [(x.item_id, x.why) for x in report.skipped] == [(item_id, "appeal pending")]
    assert status_of(rt.settings.database_url, item_id)[1] is None


def test_a_batch_below_one_is_refused(rt):
    with pytest.raises(ValueError, match="batch"):
        retention.purge(rt, batch=0)


def test_beat_runs_the_purge_on_the_maintenance_queue():
    assert ROUTES["modq.purge_expired"] == "maintenance"
    entry = celery_app.conf.beat_schedule["purge-expired"]
    assert (entry["task"], entry["schedule"]) == ("modq.purge_expired", 3600.0)
    assert celery_app.tasks["modq.purge_expired"].acks_late


# --- the command ----------------------------------------------------------------


def test_the_command_dry_run_lists_what_would_go_and_what_is_held(cli_env, seeded):
    age(cli_env.settings.database_url, 400)
    before = dump(cli_env.settings.database_url)
    result = runner.invoke(app, ["retention", "run", "--dry-run", "--tenant", "*", "--batch", "3"])
    assert result.exit_code == 0, result.output
    assert "would purge 10 items" in result.output and "legal hold 1: court order 42" in result.output
    assert dump(cli_env.settings.database_url) == before
    with structlog.testing.capture_logs() as logged:  # (unconfigured structlog would write into the output)
        result = runner.invoke(app, ["retention", "run", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["total"] == 10
    batches = [e for e in logged if e["event"] == "retention_batch"]
    assert sum(e["purged"] for e in batches) == 10 and sum(e["skipped"] for e in batches) == 1


@pytest.mark.parametrize("args, message", [(["--tenant", "nope"], "nope"), (["--batch", "0"], "--batch")])
def test_the_command_refuses_bad_input_and_changes_nothing(cli_env, seeded, args, message):
    before = dump(cli_env.settings.database_url)
    result = runner.invoke(app, ["retention", "run", *args])
    assert result.exit_code == 2 and message in result.output
    assert dump(cli_env.settings.database_url) == before
