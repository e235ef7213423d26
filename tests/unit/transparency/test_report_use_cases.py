"""The transparency report (issue 18.5) of decisions made through the real use cases, not seeded rows: the
pipeline's automatic decisions, reviews, an override, an undone review, appeals of an unreviewed and of a reviewed
item, a re-evaluation. Each decision is tallied as the test makes it; the report's decisions table must equal the
tally, although the use cases overwrite ``decisions.verdict`` and ``reviews.verdict``, delete the undone review
and add a ``reviews`` row for an appeal (test_report.py: the same against seeded history)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from moderation.domain.tenancy import EVERY_TENANT, Scope
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.policy import versions as policy_store
from moderation.policy.reevaluate import reevaluate
from moderation.review import appeals, override as overrides, services as review, undo as undos
from moderation.tenants import services as tenants
from moderation.transparency.report import Period, build
from tests.transparency_items import statements, tenant_item

ALICE, BOB, ROOT, FORUM = "alice (token 2)", "bob (token 3)", "root (token 1)", "forum (token 1)"
OURS = Scope(tenant_ids=frozenset({1}))
# Under config/thresholds.yaml (Hate Symbols: flag 50, reject 90), a version that rejects a 70% one.
STRICT = "min_confidence: 50\ndefault: {flag: 80, reject: null}\nlabels:\n  Hate Symbols: {flag: 40, reject: 60}\n"


def status(rt, item_id: str) -> str:
    with transaction(rt.settings.database_url) as s:
        return s.get(m.Item, item_id).status


class Tally:
    """The decisions the test made, by (decided_by, verdict) as the report names them."""

    def __init__(self, rt, media_root, fake_provider):
        self.rt, self.media_root, self.fake_provider = rt, media_root, fake_provider
        self.counts: Counter[tuple[str, str]] = Counter()
        self.items: list[str] = []
        self.reviewed: set[str] = set()

    def item(self, confidence: float, tenant_id: int = 1) -> str:
        item_id = tenant_item(self.rt, self.media_root, self.fake_provider, "Hate Symbols", confidence, tenant_id)
        if tenant_id == 1:
            self.items.append(item_id)
            self.counts["automatic", status(self.rt, item_id)] += 1
        return item_id

    def review(self, item_id: str, verdict: str, scope: Scope = OURS) -> None:
        review.claim(self.rt, ALICE, item_id=item_id)
        review.review(self.rt, item_id, ALICE, verdict, "looked at it", scope=scope)
        if scope == OURS:
            self.counts["reviewer", verdict] += 1
            self.reviewed.add(item_id)

    def undo(self, item_id: str) -> None:
        undone = undos.undo(self.rt, item_id, ALICE, scope=OURS)
        self.counts["reviewer", undone["verdict"]] -= 1  # taken back: no decision

    def override(self, item_id: str, verdict: str) -> None:
        overrides.override(self.rt, item_id, ROOT, verdict, "policy says otherwise", scope=OURS)
        self.counts["override", verdict] += 1

    def appeal(self, item_id: str, outcome: str, verdict: str | None) -> None:
        filed = appeals.file(self.rt, item_id, "please look again", None, FORUM, scope=OURS)
        decided = appeals.decide(self.rt, filed["id"], BOB, outcome, verdict, "looked again", scope=OURS)
        self.counts["appeal", decided["new_verdict"]] += 1


def test_the_report_counts_each_decision_the_use_cases_made_once_by_who_made_it(rt, media_root, fake_provider):
    start = utcnow() - timedelta(seconds=1)
    other = tenants.create(rt.settings.database_url, "other", "test")["id"]
    done = Tally(rt, media_root, fake_provider)
    rejected, appealed = done.item(95), done.item(95)  # rejected automatically
    flagged, overridden, undone = done.item(70), done.item(70), done.item(70)
    done.review(flagged, "rejected")
    done.review(overridden, "approved")
    done.override(overridden, "rejected")  # reviews.verdict overwritten
    done.review(undone, "rejected")
    done.undo(undone)  # the review row deleted, its statement withdrawn
    done.review(undone, "approved")
    done.appeal(appealed, "overturned", "approved")  # no review: appeals.decide adds a reviews row
    done.appeal(flagged, "overturned", "approved")  # the review's verdict left stale
    done.review(done.item(70, tenant_id=other), "rejected", EVERY_TENANT)  # another tenant's: not in ours
    reevaluated = done.item(70)
    summary = reevaluate(rt, policy_store.apply(rt.settings.database_url, STRICT, author="ann").policy, "ann")
    done.counts["re-evaluation", "rejected"] += summary.rejected  # decisions.verdict overwritten in place
    done.counts["re-evaluation", "approved"] += summary.approved
    assert (summary.rejected, status(rt, reevaluated)) == (1, "rejected") and summary.examined == 1
    assert {rejected, appealed} <= set(done.items)

    report = build(rt.settings.database_url, Period(start, utcnow() + timedelta(seconds=1), OURS, "default"))

    got = {(by, verdict): n for by, verdict, _, n in report.tables["decisions"].rows}
    assert got == {key: n for key, n in done.counts.items() if n}
    assert all(restrictive == ("yes" if verdict == "rejected" else "no")
               for _, verdict, restrictive, _ in report.tables["decisions"].rows)
    timed = {row[0]: row[1] for row in report.tables["time_to_decision"].rows}
    assert timed["submission to automatic decision"] == len(done.items)
    assert timed["submission to reviewer decision"] == len(done.reviewed)  # the undone item once: its 2nd review
    assert timed["appeal to decision"] == done.counts["appeal", "approved"] == 2
    assert dict(report.tables["appeals"].rows) == {"received": 2, "decided": 2, "upheld": 0, "overturned": 2}
    ours = [s for s in statements(rt) if s.tenant_id == 1]
    figures = dict(report.summary)
    assert any(s.state == "withdrawn" for s in ours)  # the undone review's: never sent, not counted
    assert figures["statements of reasons (not withdrawn)"] == sum(s.state != "withdrawn" for s in ours)
    assert figures["reviewer decisions"] == done.counts["reviewer", "approved"] + done.counts["reviewer", "rejected"]
