"""Erasure on request (issue 19.2) on SQLite: a subject's items in every state, the hold respected and reported,
the item being moderated erased when it ends, the audit trail saying what happened and naming nothing erased."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from moderation.alerts.models import Alert
from moderation.domain.errors import BadInput
from moderation.domain.tenancy import DEFAULT_TENANT_ID, EVERY_TENANT, Scope
from moderation.infra.db import transaction
from moderation.items import models as m, services as service
from moderation.privacy import erasure
from moderation.privacy.models import LegalHold
from moderation.privacy.retention import purge
from moderation.review.services import NotFound
from moderation.tenants import services as tenants
from tests.erasure_items import HOLD_REASON, rejected_item, rows, rule_runtime, scan, seed, status_of


@pytest.fixture
def rrt(rt, fake_provider):
    return rule_runtime(rt.settings, fake_provider)


def kept_statement(seeded) -> set[tuple[str, str, str]]:
    """What an erasure leaves of the erasable items: nothing (an unsent statement of reasons loses the reviewer's
    words; one already sent would stay as sent)."""
    return set()


def test_a_subject_with_items_in_every_state_is_erased_but_what_is_held_or_pending(rrt):
    seeded = seed(rrt, DEFAULT_TENANT_ID)
    items = seeded.items
    assert rows(rrt, m.SubjectFlag) and status_of(rrt, items["reviewed"]) == m.REJECTED
    assert scan(rrt, [seeded.subject])  # the seeding stored it (the scan can fail)

    report = erasure.erase_subject(rrt, DEFAULT_TENANT_ID, seeded.subject, "admin-1 (token 1)")

    erasable = ("approved", "flagged", "rejected", "failed", "reviewed", "appealed")
    assert sorted(report.erased) == sorted(items[s] for s in erasable)
    assert report.held == [{"item_id": items["held"], "reason": HOLD_REASON}]
    assert report.pending == [items["processing"]]
    assert scan(rrt, seeded.personal(*erasable)) == kept_statement(seeded)
    # the subject id stays only on the held item's row; the pending item lost it already
    assert scan(rrt, [seeded.subject]) == {(seeded.subject, "items", "subject_id")}
    assert {v for v, _, _ in scan(rrt, seeded.personal("held"))} == set(seeded.personal("held"))
    assert rows(rrt, m.SubjectFlag) == []
    assert {a.dedup_id.split(":")[2] for a in rows(rrt, Alert, Alert.kind == "subject")} == {"erased"}

    assert service.process_image(items["processing"], rt=rrt) == m.REJECTED  # its moderation ends: erased with
    assert scan(rrt, seeded.personal("processing", *erasable)) == kept_statement(seeded)  # its decision
    assert sum(purge(rrt).purged.values()) == 0  # nothing left for retention's sweep
    assert rows(rrt, m.SubjectFlag) == []  # its rejection, with no subject, flagged no one again


def test_the_subjects_alerts_are_withdrawn_and_a_later_crossing_alerts_again(rrt):
    seeded = seed(rrt, DEFAULT_TENANT_ID)
    before = rows(rrt, Alert, Alert.kind == "subject")
    assert before and all(a.published_at is None for a in before)

    erasure.erase_subject(rrt, DEFAULT_TENANT_ID, seeded.subject, "admin")

    assert all(a.cancelled_at is not None for a in rows(rrt, Alert, Alert.kind == "subject"))
    # the platform's account keeps uploading: its next crossing is counted from 1 and alerts (no clash with
    # the erased alerts' old dedup ids)
    rejected_item(rrt, DEFAULT_TENANT_ID, seeded.subject)
    rejected_item(rrt, DEFAULT_TENANT_ID, seeded.subject)
    fresh = [a for a in rows(rrt, Alert, Alert.kind == "subject") if a.cancelled_at is None]
    assert len(fresh) == 1 and fresh[0].message["subject_id"] == seeded.subject
    assert len(rows(rrt, m.SubjectFlag)) == 1


def test_the_audit_trail_records_the_erasure_without_the_erased_data(rrt):
    seeded = seed(rrt, DEFAULT_TENANT_ID)
    erasure.erase_subject(rrt, DEFAULT_TENANT_ID, seeded.subject, "admin-1 (token 1)")

    entries = rows(rrt, m.AuditEvent, m.AuditEvent.action == m.AuditAction.ERASE)
    by_item = {e.item_id: e for e in entries}
    summary = by_item.pop(None)
    assert (summary.tenant_id, summary.actor) == (DEFAULT_TENANT_ID, "admin-1 (token 1)")
    assert summary.reason == "erasure of a subject: 6 items erased, 1 held, 1 pending"
    assert set(by_item) == {seeded.items[s] for s in seeded.items if s != "held"}
    assert by_item[seeded.items["approved"]].reason == erasure.ERASED_REASON
    assert by_item[seeded.items["processing"]].reason == erasure.PENDING_REASON
    assert {e.actor for e in entries} == {"admin-1 (token 1)"}
    # earlier entries of erased items keep their action and times; their free text is a tombstone
    review_entry = rows(rrt, m.AuditEvent, m.AuditEvent.item_id == seeded.items["reviewed"],
                        m.AuditEvent.action == m.AuditAction.REVIEW)[0]
    assert review_entry.reason == "[erased]"


def test_a_subject_is_erased_in_one_tenant_only(rrt):
    other = tenants.create(rrt.settings.database_url, "other", "test")["id"]
    mine, theirs = seed(rrt, DEFAULT_TENANT_ID, "a"), seed(rrt, other, "b")
    same = theirs.subject
    with transaction(rrt.settings.database_url) as s:  # the same account id on the other platform
        for item in s.scalars(select(m.Item).where(m.Item.tenant_id == DEFAULT_TENANT_ID)):
            item.subject_id = same if item.subject_id == mine.subject else item.subject_id

    erasure.erase_subject(rrt, other, same, "admin")

    assert scan(rrt, theirs.personal("approved", "rejected")) == set()
    assert {v for v, _, _ in scan(rrt, mine.personal("approved", "rejected"))} == set(
        mine.personal("approved", "rejected"))


def test_an_unknown_subject_or_a_bad_id_is_refused_and_nothing_changes(rrt):
    seeded = seed(rrt, DEFAULT_TENANT_ID)
    before = scan(rrt, [seeded.subject, *seeded.personal("approved")])
    with pytest.raises(NotFound):
        erasure.erase_subject(rrt, DEFAULT_TENANT_ID, "nobody", "admin")
    for bad in ("", "bell\x07", "u" * 256, f"{seeded.subject}\n"):
        with pytest.raises(BadInput):
            erasure.erase_subject(rrt, DEFAULT_TENANT_ID, bad, "admin")
    assert scan(rrt, [seeded.subject, *seeded.personal("approved")]) == before
    assert rows(rrt, m.AuditEvent, m.AuditEvent.action == m.AuditAction.ERASE) == []


def test_erasing_one_item(rrt):
    seeded = seed(rrt, DEFAULT_TENANT_ID)
    approved, held = seeded.items["approved"], seeded.items["held"]

    assert erasure.erase_item(rrt, approved, EVERY_TENANT, "admin").as_dict() == {
        "erased": [approved], "held": [], "pending": []}
    assert erasure.erase_item(rrt, held, EVERY_TENANT, "admin").held == [{"item_id": held, "reason": HOLD_REASON}]
    assert erasure.erase_item(rrt, seeded.items["processing"], EVERY_TENANT, "admin").pending == [
        seeded.items["processing"]]

    assert scan(rrt, seeded.personal("approved")) == set()
    assert {v for v, _, _ in scan(rrt, seeded.personal("rejected"))} == set(seeded.personal("rejected"))
    assert rows(rrt, m.SubjectFlag) != []  # one item's erasure is not its subject's
    with pytest.raises(NotFound):  # another tenant's admin: as a missing item
        erasure.erase_item(rrt, seeded.items["rejected"], Scope(tenant_ids=frozenset({999})), "admin")
    with pytest.raises(NotFound):
        erasure.erase_item(rrt, "no-such-item", EVERY_TENANT, "admin")
    assert {v for v, _, _ in scan(rrt, seeded.personal("rejected"))} == set(seeded.personal("rejected"))


def test_erasing_again_removes_what_was_written_since(rrt):
    """Free text written about an erased item afterwards (a review of it, say) goes with the next erasure;
    each request is audited."""
    seeded = seed(rrt, DEFAULT_TENANT_ID)
    approved = seeded.items["approved"]
    erasure.erase_item(rrt, approved, EVERY_TENANT, "admin")
    with transaction(rrt.settings.database_url) as s:
        s.add(m.AuditEvent(item_id=approved, actor="alice", action=m.AuditAction.CLAIM, reason="uploader alice@x.org"))
    assert scan(rrt, ["alice@x.org"]) != set()
    assert erasure.erase_item(rrt, approved, EVERY_TENANT, "admin").erased == [approved]
    assert scan(rrt, ["alice@x.org"]) == set()
    assert len(rows(rrt, m.AuditEvent, m.AuditEvent.item_id == approved,
                    m.AuditEvent.action == m.AuditAction.ERASE)) == 2


def test_a_subject_hold_keeps_every_item_and_the_subject_flags(rrt):
    seeded = seed(rrt, DEFAULT_TENANT_ID)
    with transaction(rrt.settings.database_url) as s:
        s.add(LegalHold(tenant_id=DEFAULT_TENANT_ID, subject_id=seeded.subject, reason="investigation",
                        created_by="test"))

    report = erasure.erase_subject(rrt, DEFAULT_TENANT_ID, seeded.subject, "admin")

    assert report.erased == [] and report.pending == [] and len(report.held) == len(seeded.items)
    assert rows(rrt, m.SubjectFlag) != []
    assert {v for v, _, _ in scan(rrt, seeded.personal("approved"))} == set(seeded.personal("approved"))


def test_an_unsent_statement_loses_the_reviewers_words(rrt):
    seeded = seed(rrt, DEFAULT_TENANT_ID)
    erasure.erase_item(rrt, seeded.items["reviewed"], EVERY_TENANT, "admin")
    assert scan(rrt, [seeded.values["reviewed"][-1]]) == set()


def test_a_worker_publishing_the_decision_of_an_item_erased_meanwhile_sends_no_erased_data(rrt):
    """The worker's inline relay publishes what the row holds after the commit, not the copy it built before
    the erasure that waited for the decision scrubbed it."""
    from moderation.alerts.services import InlineRelay
    from tests.fakes.providers import RecordingPublisher

    seeded = seed(rrt, DEFAULT_TENANT_ID)
    item_id = seeded.items["processing"]
    assert erasure.erase_item(rrt, item_id, EVERY_TENANT, "admin").pending == [item_id]
    publisher = RecordingPublisher()
    rrt.alert_relay = InlineRelay(rrt.settings.database_url, publisher, 60)
    assert service.process_image(item_id, rt=rrt) == m.REJECTED
    sent = [a for a in publisher.sent if a["item_id"] == item_id]
    assert sent, "the decision's alert was published"
    text = repr(sent)
    assert not [v for v in seeded.personal("processing") if v in text]
    assert scan(rrt, seeded.personal("processing")) == set()  # erased as its decision was recorded


def test_the_privacy_trail_keeps_its_reasons_through_an_erasure(rrt):
    """A released hold's entries, and the erasure's own, are no personal data: the scrub leaves them, and the
    audit trigger refuses to tombstone them."""
    from sqlalchemy import update
    from sqlalchemy.exc import DatabaseError

    from moderation.privacy import holds

    seeded = seed(rrt, DEFAULT_TENANT_ID)
    approved = seeded.items["approved"]
    hold = holds.add(rrt, DEFAULT_TENANT_ID, item_id=approved, reason="court order 42", actor="root")
    holds.release(rrt, hold["id"], EVERY_TENANT, "root")
    erasure.erase_item(rrt, approved, EVERY_TENANT, "admin")
    trail = {e.action: e.reason for e in rows(rrt, m.AuditEvent, m.AuditEvent.item_id == approved)
             if e.action in ("hold", "release_hold", "erase")}
    assert "court order 42" in trail["hold"] and trail["erase"] == erasure.ERASED_REASON
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction(rrt.settings.database_url) as s:
            s.execute(update(m.AuditEvent).where(m.AuditEvent.item_id == approved,
                                                 m.AuditEvent.action == "hold").values(reason="[erased]"))
