"""Notices (Art. 16 DSA; issue 18.4) through the use cases: filing by external_id and by media_uri, grouping,
routing by where the item is, the answer a decision gives (and an undo takes back), the statement's source, and
every refusal storing nothing."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from moderation.alerts.events import event_of
from moderation.alerts.models import Alert
from moderation.cli.main import app
from moderation.domain.errors import BadInput
from moderation.domain.tenancy import DEFAULT_TENANT_ID, Scope
from moderation.infra.db import transaction
from moderation.items import models as m, services as items
from moderation.review import appeals, override, services as review, undo
from moderation.review.models import Review
from moderation.review.queries import QueueFilter, notice_open_on
from moderation.review.services import NotFound
from moderation.tenants import services as tenants
from moderation.transparency import notice_filing, notices
from moderation.transparency.models import Notice
from moderation.transparency.notice_input import NoticeIn
from tests.conftest import jpeg_bytes
from tests.fakes.providers import labels_for
from tests.review_items import decided_item
from tests.transparency_items import IWF, trusted_flaggers  # noqa: F401 (an autouse fixture)

runner = CliRunner()
USER = dict(explanation="This shows a hate symbol.", notifier_name="A. User", notifier_email="a.user@example.org",
            good_faith=True)



@pytest.fixture
def item(rt, media_root, fake_provider):
    """An item through the pipeline: ``item(ext)`` approved (nothing detected), ``item(ext, "Hate Symbols", 70)``
    flagged, ``... 95`` rejected."""
    def make(external_id: str, label: str | None = None, confidence: float = 70) -> str:
        return decided_item(rt, media_root, fake_provider, label, confidence, external_id=external_id)
    return make


def file(rt, tenant_id: int = DEFAULT_TENANT_ID, **fields) -> notice_filing.Filed:
    return notice_filing.file(rt, NoticeIn(**{**USER, **fields}), tenant_id=tenant_id, actor="forum-backend")


def trusted(rt, external_id: str) -> notice_filing.Filed:
    return file(rt, external_id=external_id, notifier_name=IWF.lower(), trusted_flagger=True)


def state(rt, item_id: str) -> tuple[str, int | None]:
    with transaction(rt.settings.database_url) as s:
        row = s.get(m.Item, item_id)
        return row.status, row.review_priority


def notices_of(rt, item_id: str) -> list[Notice]:
    with transaction(rt.settings.database_url) as s:
        rows = s.scalars(select(Notice).where(Notice.item_id == item_id).order_by(Notice.received_at)).all()
        s.expunge_all()
        return list(rows)


def notice_alerts(rt) -> list[Alert]:
    with transaction(rt.settings.database_url) as s:
        rows = s.scalars(select(Alert).where(Alert.kind == "notice").order_by(Alert.id)).all()
        s.expunge_all()
        return list(rows)


def counts(rt) -> tuple[int, int, int]:
    with transaction(rt.settings.database_url) as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (Notice, m.Item, m.AuditEvent))


def decide(rt, item_id: str, verdict: str, reviewer: str = "alice") -> Review:
    review.claim(rt, reviewer, QueueFilter(), item_id=item_id)
    return review.review(rt, item_id, reviewer, verdict, "checked the notice")


# --- filing and routing -------------------------------------------------------


def test_a_notice_sends_an_item_approved_automatically_back_to_a_person(rt, item):
    item_id = item("post-1")
    assert state(rt, item_id) == (m.APPROVED, None)
    filed = file(rt, external_id="post-1")
    assert (filed.item_id, filed.state, filed.grouped_with, filed.item_status) == (item_id, "open", 1, m.FLAGGED)
    assert state(rt, item_id) == (m.FLAGGED, None)  # a user's notice: the policy's default rank (none here)
    (notice,) = notices_of(rt, item_id)
    assert (notice.id, notice.notifier_email, notice.good_faith, notice.filed_by) == (
        filed.notice_id, "a.user@example.org", True, "forum-backend")
    assert notice.decided_at is None and notice.outcome is None
    with transaction(rt.settings.database_url) as s:
        last = s.scalars(select(m.AuditEvent).where(m.AuditEvent.item_id == item_id)
                         .order_by(m.AuditEvent.id.desc())).first()
        assert (last.from_status, last.to_status, last.actor) == (m.APPROVED, m.FLAGGED, "forum-backend")
        assert last.reason.startswith(f"notice {filed.notice_id} from a user: back to review")


def test_a_trusted_flaggers_notice_goes_ahead_of_every_label_rank(rt, item):
    ranked = item("older-flagged", "Self-Harm", 70)  # ranked by the default priorities, and older
    noticed = item("post-2")
    assert state(rt, ranked)[1] is not None
    trusted(rt, "post-2")
    assert state(rt, noticed) == (m.FLAGGED, notices.TRUSTED_RANK)
    assert review.claim(rt, "alice", QueueFilter()).item_id == noticed


def test_a_flagged_item_stays_in_the_queue_raised_for_a_trusted_flagger(rt, item):
    item_id = item("post-3", "Hate Symbols", 70)
    rank = state(rt, item_id)[1]
    assert file(rt, external_id="post-3").item_status == m.FLAGGED
    assert state(rt, item_id) == (m.FLAGGED, rank)  # a user's notice changes no rank
    trusted(rt, "post-3")
    assert state(rt, item_id) == (m.FLAGGED, 0)


def test_several_notices_on_one_item_are_one_queue_entry_answered_together(rt, item):
    item_id = item("post-4")
    assert [file(rt, external_id="post-4", notifier_name=f"user {n}").grouped_with for n in (1, 2)] == [1, 2]
    assert trusted(rt, "post-4").grouped_with == 3
    queue = review.queue(rt, QueueFilter(source="notice"), limit=10)
    assert [i.id for i in queue] == [item_id]
    row = decide(rt, item_id, "rejected")
    answered = notices_of(rt, item_id)
    assert {(n.outcome, n.automated, n.decision_ref) for n in answered} == {(m.REJECTED, False, f"r{row.id}")}
    alerts = notice_alerts(rt)
    assert sorted(a.message["notice_id"] for a in alerts) == sorted(n.id for n in answered)
    assert set(row.alert_ids) >= {a.id for a in alerts}  # held for the undo window with the review's own
    assert all(a.hold_until is not None for a in alerts)
    message = alerts[0].message
    assert (message["item_id"], message["external_id"], message["decision"], message["automated"]) == (
        item_id, "post-4", m.REJECTED, False)
    assert not {"a.user@example.org", "user 1", "alice"} & {str(v) for v in message.values()}
    assert event_of("notice") == "notice.decided"
    assert review.queue(rt, QueueFilter(source="notice"), limit=10) == []


def test_a_model_finding_confirmed_by_a_person_was_decided_with_automation(rt, item):
    item_id = item("post-5", "Hate Symbols", 70)
    file(rt, external_id="post-5")
    decide(rt, item_id, "rejected")
    assert [n.automated for n in notices_of(rt, item_id)] == [True]


def test_a_notice_on_an_item_in_moderation_waits_for_its_automatic_decision(rt, media_root, fake_provider):
    approved = _queued(rt, media_root, fake_provider, "q-1", 401)
    rejected = _queued(rt, media_root, fake_provider, "q-2", 402, "Hate Symbols", 95)
    flagged = _queued(rt, media_root, fake_provider, "q-3", 403, "Hate Symbols", 70)
    assert file(rt, external_id="q-1").item_status == m.QUEUED
    trusted(rt, "q-2")
    trusted(rt, "q-3")
    items.process_image(flagged, rt=rt)  # flagged -> it waits for a person, ranked first
    assert state(rt, flagged) == (m.FLAGGED, notices.TRUSTED_RANK)
    assert notices_of(rt, flagged)[0].decided_at is None
    assert state(rt, approved)[0] == m.QUEUED and not notice_alerts(rt)
    items.process_image(approved, rt=rt)  # approved -> the notice sends it to a person
    assert state(rt, approved) == (m.FLAGGED, None) and notices_of(rt, approved)[0].decided_at is None
    items.process_image(rejected, rt=rt)  # rejected -> the notice is answered, automatically
    (notice,) = notices_of(rt, rejected)
    assert (notice.outcome, notice.automated, notice.decision_ref[0]) == (m.REJECTED, True, "d")
    (alert,) = notice_alerts(rt)
    assert alert.message["notice_id"] == notice.id and alert.hold_until is None
    assert alert.id in rt.dispatcher.alerts  # published after the decision's commit


def test_a_notice_on_an_item_a_person_decided_is_answered_at_once_and_an_undo_reopens_it(rt, item):
    item_id = item("post-6", "Hate Symbols", 70)
    row = decide(rt, item_id, "approved")
    filed = file(rt, external_id="post-6")
    assert (filed.state, filed.grouped_with, filed.item_status) == ("answered", 0, m.APPROVED)
    (notice,) = notices_of(rt, item_id)
    assert (notice.outcome, notice.automated, notice.decision_ref) == (m.APPROVED, True, f"r{row.id}")
    (alert,) = notice_alerts(rt)
    assert alert.hold_until is not None  # inside the review's undo window: held with its alerts
    undo.undo(rt, item_id, "alice", scope=Scope(all=True))
    (notice,) = notices_of(rt, item_id)
    assert (notice.decided_at, notice.outcome, notice.decision_ref) == (None, None, None)
    assert notice_alerts(rt)[0].cancelled_at is not None
    assert [i.id for i in review.queue(rt, QueueFilter(source="notice"), limit=10)] == [item_id]


def test_reopen_and_answer_again_write_a_new_event(rt, item):
    item_id = item("post-7")
    file(rt, external_id="post-7")
    decide(rt, item_id, "rejected")
    undo.undo(rt, item_id, "alice", scope=Scope(all=True))
    decide(rt, item_id, "approved")
    alerts = notice_alerts(rt)
    assert [(a.message["decision"], a.cancelled_at is None) for a in alerts] == [(m.REJECTED, False),
                                                                                  (m.APPROVED, True)]
    assert notices_of(rt, item_id)[0].outcome == m.APPROVED


def test_an_override_within_the_undo_window_answers_the_notices_with_the_final_verdict(rt, item):
    """The review's answer is held and cancelled by the override; the notifier hears the override's."""
    item_id = item("post-8")
    file(rt, external_id="post-8")
    decide(rt, item_id, "rejected")
    override.override(rt, item_id, "root (token 1)", "approved", "satire, allowed", scope=Scope(all=True))
    alerts = notice_alerts(rt)
    assert [(a.message["decision"], a.cancelled_at is None) for a in alerts] == [(m.REJECTED, False),
                                                                                  (m.APPROVED, True)]
    (notice,) = notices_of(rt, item_id)
    assert (notice.outcome, notice.decision_ref.startswith("o")) == (m.APPROVED, True)


def test_an_appeal_that_keeps_the_outcome_does_not_answer_again(rt, item):
    item_id = item("post-9", "Hate Symbols", 70)
    file(rt, external_id="post-9")
    decide(rt, item_id, "rejected")
    before = [(a.id, a.message["decision"]) for a in notice_alerts(rt)]
    filed = appeals.file(rt, item_id, "it is art", None, "forum (token 1)", scope=Scope(all=True))
    appeals.decide(rt, filed["id"], "bob (token 3)", "upheld", None, "a hate symbol", scope=Scope(all=True))
    assert [(a.id, a.message["decision"]) for a in notice_alerts(rt)] == before == [(before[0][0], m.REJECTED)]


def test_a_notice_on_an_item_rejected_automatically_waits_in_the_notice_queue(rt, item):
    item_id = item("post-10", "Hate Symbols", 95)
    assert file(rt, external_id="post-10").state == "open"
    assert [i.id for i in review.queue(rt, QueueFilter(source="notice"), limit=10)] == [item_id]
    assert item_id not in [i.id for i in review.queue(rt, QueueFilter(), limit=10)]  # the flagged queue


def test_filing_by_media_uri_submits_the_item_first(rt, media_root, fake_provider):
    (media_root / "reported.jpg").write_bytes(jpeg_bytes(width=321))
    filed = file(rt, media_uri="reported.jpg", external_id="post-8")
    assert filed.item_status == m.QUEUED and (filed.item_id, "image") in rt.dispatcher.sent
    assert notices_of(rt, filed.item_id)[0].id == filed.notice_id
    again = file(rt, media_uri="reported.jpg", external_id="post-8")  # a known external_id: that item
    assert (again.item_id, again.grouped_with) == (filed.item_id, 2)


def test_the_statement_source_follows_the_notices(rt, item):
    plain, noticed, flagged = item("s-1"), item("s-2"), item("s-3")
    file(rt, external_id="s-2")
    file(rt, external_id="s-3")
    trusted(rt, "s-3")
    with transaction(rt.settings.database_url) as s:
        assert [notices.source_for(s, i) for i in (plain, noticed, flagged)] == [
            "voluntary", "notice", "trusted_flagger"]
        assert [s.scalar(notice_open_on(i)) for i in (plain, noticed)] == [False, True]


# --- refusals: nothing stored ---------------------------------------------------


@pytest.mark.parametrize("fields, message", [
    ({"good_faith": None}, "good_faith: the notifier must confirm"),
    ({"good_faith": False}, "good_faith: the notifier must confirm"),
    ({"notifier_email": None}, "notifier_email: required (Art. 16(2)(c) DSA)"),
    ({"notifier_email": "  "}, "notifier_email: required"),
    ({"notifier_name": None}, "notifier_name: required"),
    ({"notifier_email": "not-an-address"}, "notifier_email: not an e-mail address"),
    ({"explanation": "x" * 5001}, "explanation: at most 5000 characters (5001 given)"),
    ({"explanation": " \n "}, "explanation: required"),
    ({"explanation": "see \x1b[31m"}, "explanation: must not contain control characters"),
    ({"trusted_flagger": True}, "trusted_flagger: notifier_name is not a trusted flagger of this tenant"),
    ({"trusted_flagger": True, "notifier_name": "Internet Watch"}, "is not a trusted flagger"),
    ({"external_id": None}, "external_id: name the item (external_id) or its media (media_uri)"),
    ({"external_id": None, "media_uri": "missing.jpg"}, "missing.jpg"),
])
def test_a_refused_notice_stores_nothing(rt, item, fields, message):
    item("post-9")
    before = counts(rt)
    with pytest.raises(BadInput, match=re.escape(message)):
        file(rt, **{"external_id": "post-9", **fields})
    assert counts(rt) == before


def test_csam_needs_no_name_or_email(rt, item):
    item_id = item("post-10")
    filed = file(rt, external_id="post-10", notifier_name=None, notifier_email=None, csam=True)
    assert filed.item_id == item_id and notices_of(rt, item_id)[0].csam is True


@pytest.mark.parametrize("external_id", ["no-such-post", "theirs"])
def test_an_unknown_or_another_tenants_external_id_is_not_found(rt, item, media_root, fake_provider, external_id):
    other = tenants.create(rt.settings.database_url, "other", "test")["id"]
    (media_root / "theirs.jpg").write_bytes(jpeg_bytes(width=333))
    items.submit("theirs.jpg", external_id="theirs", rt=rt, origin=items.Origin(other, "their-backend"))
    before = counts(rt)
    with pytest.raises(NotFound, match=f"no item with external_id '{external_id}'"):
        file(rt, external_id=external_id)
    assert counts(rt) == before


def _queued(rt, media_root, fake_provider, external_id: str, width: int, label: str | None = None,
            confidence: float = 0) -> str:
    """A distinct image submitted (queued, not yet moderated); the fake provider sees ``label`` in it."""
    data = jpeg_bytes(width=width, color=(10, 20, 30))
    (media_root / f"{external_id}.jpg").write_bytes(data)
    if label:
        fake_provider.by_key[hashlib.sha256(data).hexdigest()] = labels_for(label, confidence)
    return items.submit(f"{external_id}.jpg", external_id=external_id, rt=rt).item_id


def test_modq_review_lists_and_claims_only_noticed_items_with_source_notice(rt, item, cli_env):
    item("c-1", "Hate Symbols", 70)  # waiting for review too, but no notice on it
    noticed = item("c-2")
    file(rt, external_id="c-2")
    listed = runner.invoke(app, ["review", "list", "--source", "notice", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [row["id"] for row in json.loads(listed.stdout)] == [noticed]
    claimed = runner.invoke(app, ["review", "next", "--source", "notice", "--json", "--reviewer", "bob"])
    assert claimed.exit_code == 0 and json.loads(claimed.stdout)["id"] == noticed
    assert runner.invoke(app, ["review", "list", "--source", "tip-off"]).exit_code == 2
