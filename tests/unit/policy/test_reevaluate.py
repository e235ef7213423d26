"""``policy apply --reevaluate`` (moderation.policy.reevaluate): flagged, unreviewed items re-decided under a
new version; audit trail, decision rows, alerts only when stricter, idempotent; the CLI
(the API's ?reevaluate=true: tests/unit/api/test_policy_api.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import structlog.testing
from sqlalchemy import select
from typer.testing import CliRunner

from moderation.domain import policy
from moderation.policy import versions as policy_store
from moderation.review import services as review
from moderation.cli.main import app
from moderation.policy.reevaluate import Summary, reevaluate
from moderation.items import models as m
from moderation.alerts.models import Alert
from moderation.video import models as vm
from moderation.infra.db import transaction
from tests.fakes.providers import labels_for
from tests.review_items import decided_item

runner = CliRunner()
# Under config/thresholds.yaml (local profile: Hate Symbols flag 50 / reject 90, Violence flag 70)
STRICT = "min_confidence: 50\ndefault: {flag: 80, reject: null}\nlabels:\n  Hate Symbols: {flag: 40, reject: 60}\n"
LENIENT = "min_confidence: 50\ndefault: {flag: 80, reject: null}\nlabels:\n  Hate Symbols: {flag: 90, reject: null}\n"
ITEMS = {  # name: (label, confidence, what happens to it before re-evaluation)
    "hate70": ("Hate Symbols", 70, None),
    "hate55": ("Hate Symbols", 55, None),
    "weapons75": ("Weapons", 75, None),
    "hate95": ("Hate Symbols", 95, None),  # rejected already: not examined
    "clean": (None, 0, None),  # approved: not examined
    "reviewed": ("Hate Symbols", 70, "review"),  # a reviewer approved it: never touched
    "claimed": ("Hate Symbols", 70, "claim"),  # a reviewer holds it right now: skipped
}


@pytest.fixture
def items(rt, media_root, fake_provider) -> dict[str, str]:
    ids = {}
    for name, (label, conf, then) in ITEMS.items():
        ids[name] = decided_item(rt, media_root, fake_provider, label, conf)
        if then == "review":
            review.review(rt, ids[name], "alice", "approved", "a flag, not a hate symbol", admin=True)
        elif then == "claim":
            assert review.claim(rt, "bob", item_id=ids[name]) is not None
    return ids


def snapshot(rt) -> dict:
    with transaction(rt.settings.database_url) as s:
        return {
            "items": {i.id: (i.status, i.policy_version) for i in s.scalars(select(m.Item))},
            "decisions": {d.item_id: (d.verdict, d.policy_version, [r["text"] for r in d.reasons])
                          for d in s.scalars(select(m.Decision))},
            "alerts": {a.id: (a.item_id, a.kind, a.dedup_id, a.message) for a in s.scalars(select(Alert))},
            "audit": [(e.item_id, e.action, e.actor, e.from_status, e.to_status, e.policy_version, e.reason)
                      for e in s.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id))],
        }


def test_stricter_version_rejects_and_alerts_only_those(rt, items):
    before, old = snapshot(rt), rt.policy.version
    new = policy_store.apply(rt.settings.database_url, STRICT, author="ann").policy
    sent_before = list(rt.dispatcher.alerts)
    summary = reevaluate(rt, new, "ann")
    assert summary.to_dict() == {"version": new.version, "examined": 4, "unchanged": 1, "approved": 1,
                                 "rejected": 1, "claimed": 1, "alerts": 1}
    after = snapshot(rt)
    changed = {k for k in after["items"] if after["items"][k] != before["items"][k]}
    assert changed == {items["hate70"], items["weapons75"]}
    assert after["items"][items["hate70"]] == ("rejected", new.version)
    assert after["items"][items["weapons75"]] == ("approved", new.version)  # STRICT has no Violence rule
    verdict, version, reasons = after["decisions"][items["hate70"]]
    assert (verdict, version) == ("rejected", new.version) and reasons == [
        "Hate Symbols 70.0% >= reject 60 (rule: Hate Symbols)"]
    assert after["decisions"][items["weapons75"]][:2] == ("approved", new.version)
    events = after["audit"][len(before["audit"]):]
    assert sorted(e[:6] for e in events) == sorted([
        (items["hate70"], "reevaluate", "ann", "flagged", "rejected", new.version),
        (items["weapons75"], "reevaluate", "ann", "flagged", "approved", new.version)])
    assert all(f"policy {old} -> {new.version}: was flagged; now " in e[6] for e in events)
    new_alerts = {k: v for k, v in after["alerts"].items() if k not in before["alerts"]}
    assert [v[:3] for v in new_alerts.values()] == [
        (items["hate70"], "reevaluate", f"{items['hate70']}:reevaluate:rejected")]
    message = next(iter(new_alerts.values()))[3]
    assert (message["verdict"], message["previous_verdict"], message["policy_version"],
            message["previous_policy_version"]) == ("rejected", "flagged", new.version, old)
    assert rt.dispatcher.alerts == sent_before + list(new_alerts)  # dispatched after the commit


def test_a_second_run_changes_nothing(rt, items):
    new = policy_store.apply(rt.settings.database_url, STRICT, author="ann").policy
    reevaluate(rt, new, "ann")
    before, sent = snapshot(rt), list(rt.dispatcher.alerts)
    again = reevaluate(rt, new, "ann")
    assert (again.examined, again.unchanged, again.claimed, again.approved, again.rejected, again.alerts) == (
        2, 1, 1, 0, 0, 0)
    assert snapshot(rt) == before and rt.dispatcher.alerts == sent



def test_progress_is_reported_after_each_batch(rt, items):
    """``on_progress(done, total)`` for a progress bar: from 0 of the flagged unreviewed items to all of them."""
    calls = []
    summary = reevaluate(rt, policy.parse(STRICT), "ann", batch=3, on_progress=lambda *a: calls.append(a))
    assert calls == [(0, 4), (3, 4), (4, 4)] and summary.examined == 4
    assert "done" not in summary.to_dict() and "after" not in summary.to_dict()


class Stop(Exception):
    pass


def test_a_stopped_pass_continues_where_it_stood(rt, items):
    """Handed its Summary again (as a restarted job is), a pass walks on from its last batch: each item once."""
    new = policy_store.apply(rt.settings.database_url, STRICT, author="ann").policy
    summary = Summary(new.version)

    def stop_after_first_batch(done, total):
        if done:
            raise Stop

    with pytest.raises(Stop):
        reevaluate(rt, new, "ann", batch=2, on_progress=stop_after_first_batch, summary=summary)
    assert summary.done == 2 and summary.after
    calls = []
    assert reevaluate(rt, new, "ann", batch=2, on_progress=lambda *a: calls.append(a), summary=summary) is summary
    assert calls[0] == (2, 4) and calls[-1] == (4, 4)
    assert summary.to_dict() == {"version": new.version, "examined": 4, "unchanged": 1, "approved": 1,
                                 "rejected": 1, "claimed": 1, "alerts": 1}

def test_the_new_ranking_reorders_what_still_waits(rt, items):
    new = policy_store.apply(rt.settings.database_url, STRICT + "priority: {Hate Symbols: 7}\n", author="ann").policy
    reevaluate(rt, new, "ann")
    with transaction(rt.settings.database_url) as s:
        ranks = {name: s.get(m.Item, items[name]).review_priority for name in ("hate55", "hate70", "hate95")}
    assert ranks == {"hate55": 7, "hate70": 7, "hate95": 2}  # unchanged and now rejected: re-ranked; 95: not examined


def test_lenient_version_approves_without_alerts(rt, items):
    before = snapshot(rt)
    new = policy.parse(LENIENT)
    summary = reevaluate(rt, new, "ann", batch=2)  # several batches
    assert (summary.examined, summary.approved, summary.rejected, summary.unchanged, summary.alerts) == (
        4, 3, 0, 0, 0)
    after = snapshot(rt)
    assert after["alerts"] == before["alerts"]
    assert {k for k in after["items"] if after["items"][k][0] == "approved"} - {
        k for k in before["items"] if before["items"][k][0] == "approved"} == {
        items["hate70"], items["hate55"], items["weapons75"]}


def test_reviewed_and_claimed_items_are_untouched(rt, items):
    before = snapshot(rt)
    reevaluate(rt, policy.parse(STRICT), "ann")
    after = snapshot(rt)
    for name in ("reviewed", "claimed", "hate95", "clean"):
        i = items[name]
        assert after["items"][i] == before["items"][i] and after["decisions"][i] == before["decisions"][i]
        assert [e for e in after["audit"] if e[0] == i] == [e for e in before["audit"] if e[0] == i]
    review.release(rt, items["claimed"], "bob")  # once the reviewer lets go, a later run re-decides it
    assert reevaluate(rt, policy.parse(STRICT), "ann").rejected == 1


def test_a_repeated_change_gets_a_new_dedup_id(rt, items):
    with transaction(rt.settings.database_url) as s:  # as if it was rejected by re-evaluation once before
        s.add(Alert(item_id=items["hate70"], kind="reevaluate", dedup_id=f"{items['hate70']}:reevaluate:rejected",
                      subject="earlier", message={}, attributes={}))
    reevaluate(rt, policy.parse(STRICT), "ann")
    with transaction(rt.settings.database_url) as s:
        ids = set(s.scalars(select(Alert.dedup_id).where(Alert.kind == "reevaluate")))
    assert ids == {f"{items['hate70']}:reevaluate:rejected", f"{items['hate70']}:reevaluate:rejected:2"}


def test_a_video_keeps_where_each_rule_fired(rt):
    labels = labels_for("Nazi Party", 70)
    with transaction(rt.settings.database_url) as s:
        a = m.Analysis(provider="local", model_version="x", labels=[lab.to_dict() for lab in labels])
        item = m.Item(media_uri="file:///v.mp4", media_type="video", status="flagged", verdict="flagged",
                      provider="local", policy_version=rt.policy.version)
        s.add_all([a, item])
        s.flush()
        s.add(m.Decision(item_id=item.id, analysis_id=a.id, verdict="flagged", reasons=[],
                         policy_version=rt.policy.version))
        item.analysis_id = a.id
        for ts, conf in ((1000, 40.0), (3250, 70.0), (9000, 65.0)):
            s.add(vm.VideoDetection(item_id=item.id, analysis_id=a.id, timestamp_ms=ts, label="Nazi Party",
                                    parent="Hate Symbols", level=2, confidence=conf))
        item_id = item.id
    assert reevaluate(rt, policy.parse(STRICT), "ann").rejected == 1
    with transaction(rt.settings.database_url) as s:
        (reason,) = s.scalar(select(m.Decision).where(m.Decision.item_id == item_id)).reasons
        alert = s.scalar(select(Alert).where(Alert.item_id == item_id))
    assert (reason["first_ms"], reason["timestamps_ms"]) == (3250, [3250, 9000])
    assert reason["text"].endswith("at 0:03.250, 0:09.000")
    assert alert.message["top_labels"][0]["first_timestamp"] == "0:03.250"


def test_cli_apply_reevaluate(cli_env, items, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("USER", "carol")  # the author when --author is not given
    path = tmp_path / "strict.yaml"
    path.write_text(STRICT)
    with structlog.testing.capture_logs() as logged:  # (the CLI sends logs to stderr; the runner would mix them in)
        result = runner.invoke(app, ["policy", "apply", str(path), "--reevaluate", "--author", "ann", "--json"])
        text = runner.invoke(app, ["policy", "apply", str(path), "--reevaluate"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["created"] and doc["reevaluated"]["rejected"] == 1 and doc["reevaluated"]["approved"] == 1
    assert [e["actor"] for e in logged if e["event"] == "reevaluated"] == ["ann", "carol"]
    assert text.exit_code == 0, text.output
    assert "already active" in text.stdout and "re-evaluated 2 unreviewed flagged items" in text.stdout
    assert "1 unchanged, 0 approved, 0 rejected (0 alerts sent), 1 skipped" in text.stdout
    plain = runner.invoke(app, ["policy", "apply", str(path), "--json"])
    assert json.loads(plain.stdout)["reevaluated"] is None


def test_a_rejection_by_reevaluation_writes_its_statement_of_reasons(rt, items):
    from tests.fakes.transparency_rules import validate_statement
    from tests.transparency_items import statements

    before = {s.id for s in statements(rt)}  # hate95's, rejected when it was first decided
    reevaluate(rt, policy.parse(STRICT), "ann")
    written = [s for s in statements(rt) if s.id not in before]
    assert [(s.item_id, s.decision, s.state) for s in written] == [(items["hate70"], "automatic", "pending")]
    body = written[0].body
    assert validate_statement(body) == {}
    assert (body["automated_decision"], body["category"]) == (
        "AUTOMATED_DECISION_FULLY", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH")
    assert "Hate Symbols 70.0%" in body["decision_facts"]


def test_an_item_with_an_open_notice_is_left_to_its_reviewer(rt, items):
    from moderation.transparency import notices
    from moderation.transparency.models import Notice

    with transaction(rt.settings.database_url) as s:
        s.add(Notice(tenant_id=1, item_id=items["hate70"], explanation="a hate symbol", notifier_name="A",
                     notifier_email="a@example.com", good_faith=True, filed_by="test"))
        s.flush()
        notices.sync_open(s, items["hate70"])  # as filing does
    before = snapshot(rt)
    summary = reevaluate(rt, policy.parse(STRICT), "ann")
    assert snapshot(rt)["items"][items["hate70"]] == before["items"][items["hate70"]]
    assert summary.rejected == 0  # hate70 was the only item the stricter version rejects
