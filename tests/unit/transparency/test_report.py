"""The transparency report (issue 18.5) against seeded history of two tenants: every CSV's figures equal what SQL
written here (raw SQLite, not the report's queries) counts in the database for the period [start, end) and the
tenant asked for; decisions are the audit trail's (not the overwritten ``decisions``/``reviews`` columns), an
undone review is none; the other tenant's rows and the rows outside the period (including a decision exactly at
the end) are not counted; the charts are real PNGs. The same figures from the real use cases:
test_report_use_cases.py."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import datetime, timezone

import numpy
import pytest
from PIL import Image
from sqlalchemy import text

from moderation.domain.tenancy import EVERY_TENANT, Scope
from moderation.infra import db
from moderation.infra.db import transaction
from moderation.transparency import report_charts, report_files
from moderation.transparency.report import Period, Report, build, percentile
from tests.unit.transparency.report_seed import seed, tenant

START, END = datetime(2026, 3, 1, tzinfo=timezone.utc), datetime(2026, 4, 1, tzinfo=timezone.utc)
BOUNDS = {"a": "2026-03-01 00:00:00.000000", "b": "2026-04-01 00:00:00.000000"}  # how SQLite stores them
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def seeded(migrated_sqlite, tmp_path_factory) -> tuple[str, dict[str, int]]:
    """One seeded database for the module (its tests only read it): drawing the charts is what takes time."""
    path = tmp_path_factory.mktemp("report") / "modq.db"
    shutil.copyfile(migrated_sqlite, path)
    url = f"sqlite:///{path}"
    ids = {"alpha": tenant(url, "alpha"), "beta": tenant(url, "beta")}
    seed(url, ids["alpha"], START, END, seed_value=1)
    seed(url, ids["beta"], START, END, seed_value=2)
    yield url, ids
    db.dispose_all()


@pytest.fixture(scope="module", params=["alpha", "*"])
def written(request, seeded, tmp_path_factory):
    """The report for one tenant or every tenant ('*'), written to a directory; and the SQL tenant filter."""
    url, tenants = seeded
    name = request.param
    scope = EVERY_TENANT if name == "*" else Scope(tenant_ids=frozenset({tenants[name]}))
    report = build(url, Period(START, END, scope, name))
    out = tmp_path_factory.mktemp("out") / "report"
    paths = report_files.write(out, report_files.files(report, report_charts.charts(report)))
    ids = ",".join(str(i) for i in (tenants.values() if name == "*" else [tenants[name]]))
    return {"dir": out, "paths": paths, "ids": ids, "url": url}


def rows(w, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((w["dir"] / f"{name}.csv").read_text())))


def sql(w, query: str) -> list[tuple]:
    with transaction(w["url"]) as s:
        return [tuple(r) for r in s.execute(text(query.replace("{ids}", w["ids"])), BOUNDS)]


def within(column: str) -> str:
    return f"{column} >= :a AND {column} < :b"


def seconds(start: str, end: str) -> str:
    return f"(julianday({end}) - julianday({start})) * 86400.0"


# The standing decisions of the audit trail, with the tenant of their item: a review is undone when the next
# review-or-undo row of its item is an undo (written here with a window function, not as the report does).
DECIDED = """WITH trail AS (SELECT e.*, i.tenant_id, i.created_at AS submitted, lead(e.action) OVER (PARTITION BY
  e.item_id, e.action IN ('review', 'undo') ORDER BY e.id) AS next FROM audit_events e JOIN items i ON i.id =
  e.item_id WHERE i.tenant_id IN ({ids}))
SELECT * FROM trail WHERE action IN ('decide', 'reevaluate', 'review', 'override', 'appeal_decide')
  AND NOT (action = 'review' AND next IS 'undo')"""
KIND = {"decide": "automatic", "reevaluate": "re-evaluation", "review": "reviewer", "override": "override",
        "appeal_decide": "appeal"}


def test_the_edges_of_the_period_and_every_kind_of_decision_are_seeded(written):
    """A decision exactly at the end exists (and must not count), as one at the start (which must); so do the
    decisions the overwritten columns miscount: undone reviews, overrides, re-evaluations, appeals."""
    at = sql(written, f"SELECT at FROM ({DECIDED}) WHERE action = 'decide' AND at IN (:a, :b)")
    assert sorted(r[0] for r in at).count(BOUNDS["b"]) >= 1 and len(at) >= 2
    actions = dict(sql(written, f"SELECT e.action, count(*) FROM audit_events e JOIN items i ON i.id = e.item_id "
                                f"WHERE i.tenant_id IN ({{ids}}) AND {within('e.at')} GROUP BY 1"))
    assert all(actions.get(a, 0) > 0 for a in ("decide", "reevaluate", "review", "override", "appeal_decide",
                                               "undo")), actions


def test_categories_count_standing_statements_by_category_and_ground(written):
    expected = sql(written, "SELECT json_extract(body, '$.category'), json_extract(body, '$.decision_ground'), "
                            f"count(*) FROM statements WHERE tenant_id IN ({{ids}}) AND {within('created_at')} "
                            "AND state != 'withdrawn' GROUP BY 1, 2")
    got = [(r["category"], r["decision_ground"], int(r["decisions"])) for r in rows(written, "categories")]
    assert sorted(got) == sorted(expected) and len(got) > 2
    assert [n for *_, n in got] == sorted((n for *_, n in got), reverse=True)  # largest first


def decided(w) -> list[tuple[str, str, int]]:
    found = sql(w, f"SELECT action, to_status, count(*) FROM ({DECIDED}) WHERE {within('at')} GROUP BY 1, 2")
    return [(KIND[action], verdict, n) for action, verdict, n in found]


def test_decisions_count_the_audit_trail_by_kind_and_verdict(written):
    got = rows(written, "decisions")
    assert sorted((r["decided_by"], r["verdict"], int(r["decisions"])) for r in got) == sorted(decided(written))
    assert all(r["restrictive"] == ("yes" if r["verdict"] == "rejected" else "no") for r in got)
    assert {r["decided_by"] for r in got} == set(KIND.values())
    assert list(dict.fromkeys(r["decided_by"] for r in got)) == list(KIND.values())  # in the order decided


def test_the_overwritten_columns_would_count_otherwise(written):
    """What the report must not do: the seeded history is one where ``reviews`` (overridden verdicts, appeals'
    rows, no undone reviews) disagrees with the trail, so the test above can tell the two apart."""
    stale = sql(written, "SELECT r.verdict, count(*) FROM reviews r JOIN items i ON i.id = r.item_id WHERE "
                         f"i.tenant_id IN ({{ids}}) AND {within('r.reviewed_at')} GROUP BY 1")
    trail = [(verdict, n) for kind, verdict, n in decided(written) if kind == "reviewer"]
    assert sorted(stale) != sorted(trail)


def test_automation_shares_of_statements_and_of_all_decisions(written):
    levels = dict(sql(written, "SELECT json_extract(body, '$.automated_decision'), count(*) FROM statements WHERE "
                               f"tenant_id IN ({{ids}}) AND {within('created_at')} AND state != 'withdrawn' "
                               "GROUP BY 1"))
    final = [(kind, n) for kind, verdict, n in decided(written) if verdict in ("approved", "rejected")]
    automatic = [(sum(n for kind, n in final if kind in ("automatic", "re-evaluation")),)]
    human = [(sum(n for kind, n in final if kind in ("reviewer", "override", "appeal")),)]
    got = {(r["basis"], r["automation"]): r for r in rows(written, "automation")}
    by_statement = {a: int(r["decisions"]) for (b, a), r in got.items() if b.startswith("restrictive")}
    assert by_statement == {level: levels.get(level, 0) for level in by_statement} and set(levels) <= set(by_statement)
    assert int(got["all decisions", "automatic"]["decisions"]) == automatic[0][0]
    assert int(got["all decisions", "human review"]["decisions"]) == human[0][0] > 0
    total = automatic[0][0] + human[0][0]
    assert float(got["all decisions", "automatic"]["share"]) == pytest.approx(automatic[0][0] / total, abs=1e-4)


def durations(w, query: str) -> list[float]:
    return [r[0] for r in sql(w, query)]


def first(w, action: str) -> list[float]:
    """Seconds from submission to each item's first standing ``action``, for those made in the period."""
    return durations(w, f"SELECT {seconds('submitted', 'at')} FROM (SELECT submitted, min(at) AS at FROM "
                        f"({DECIDED}) WHERE action = '{action}' GROUP BY item_id) WHERE {within('at')}")


def test_time_to_decision_is_the_median_and_p90_of_the_database_durations(written):
    expected = {
        "submission to automatic decision": first(written, "decide"),
        "submission to reviewer decision": first(written, "review"),
        "notice to decision": durations(written, f"SELECT {seconds('received_at', 'decided_at')} FROM notices WHERE "
                                                 f"tenant_id IN ({{ids}}) AND {within('received_at')} AND decided_at "
                                                 "IS NOT NULL"),
        "appeal to decision": durations(written, f"SELECT {seconds('filed_at', 'decided_at')} FROM appeals WHERE "
                                                 f"tenant_id IN ({{ids}}) AND {within('decided_at')}"),
    }
    got = {r["measure"]: r for r in rows(written, "time_to_decision")}
    assert set(got) == set(expected)
    for measure, values in expected.items():
        row = got[measure]
        assert int(row["decisions"]) == len(values) > 0, measure
        assert float(row["median_seconds"]) == pytest.approx(numpy.median(values), abs=0.2), measure
        assert float(row["p90_seconds"]) == pytest.approx(numpy.percentile(values, 90), abs=0.2), measure
        assert float(row["p90_hours"]) == pytest.approx(numpy.percentile(values, 90) / 3600, abs=0.01), measure


def test_notices_by_source_and_outcome_with_median_hours(written):
    expected = sql(written, "SELECT CASE WHEN trusted_flagger THEN 'trusted flagger' ELSE 'other notifier' END, "
                            "coalesce(outcome, 'open'), count(*), sum(coalesce(automated, 0)) FROM notices WHERE "
                            f"tenant_id IN ({{ids}}) AND {within('received_at')} GROUP BY 1, 2")
    got = rows(written, "notices")
    assert sorted((r["source"], r["outcome"], int(r["notices"]), int(r["decided_by_automation"])) for r in got) \
        == sorted(expected)
    assert {r["source"] for r in got} == {"trusted flagger", "other notifier"}
    for r in got:
        values = durations(written, f"SELECT {seconds('received_at', 'decided_at')} FROM notices WHERE tenant_id IN "
                                    f"({{ids}}) AND {within('received_at')} AND decided_at IS NOT NULL AND "
                                    f"outcome = '{r['outcome']}' AND trusted_flagger = "
                                    f"{int(r['source'] == 'trusted flagger')}")
        if r["outcome"] == "open":
            assert values == [] and r["median_hours_to_decision"] == ""
        else:
            assert float(r["median_hours_to_decision"]) == pytest.approx(numpy.median(values) / 3600, abs=0.01)


def test_appeals_received_decided_overturned(written):
    received = sql(written, f"SELECT count(*) FROM appeals WHERE tenant_id IN ({{ids}}) AND {within('filed_at')}")
    outcomes = dict(sql(written, "SELECT outcome, count(*) FROM appeals WHERE tenant_id IN ({ids}) AND "
                                 f"{within('decided_at')} GROUP BY 1"))
    got = {r["measure"]: int(r["appeals"]) for r in rows(written, "appeals")}
    assert got == {"received": received[0][0], "decided": sum(outcomes.values()), "upheld": outcomes["upheld"],
                   "overturned": outcomes["overturned"]}


def test_statements_by_submission_state(written):
    expected = dict(sql(written, "SELECT state, count(*) FROM statements WHERE tenant_id IN ({ids}) AND "
                                 f"{within('created_at')} GROUP BY 1"))
    got = {r["state"]: int(r["statements"]) for r in rows(written, "statements")}
    assert list(got) == ["pending", "sent", "rejected", "withdrawn"]
    assert got == {state: expected.get(state, 0) for state in got} and sum(got.values()) == sum(expected.values())


def test_summary_totals_are_the_tables_totals(written):
    summary = {r["measure"]: r["value"] for r in rows(written, "summary")}
    decided = rows(written, "decisions")
    assert int(summary["restrictive decisions"]) == sum(int(r["decisions"]) for r in decided
                                                        if r["verdict"] == "rejected")
    stated = {r["state"]: int(r["statements"]) for r in rows(written, "statements")}
    assert stated["withdrawn"] > 0  # never sent: not in the total
    assert int(summary["statements of reasons (not withdrawn)"]) == sum(stated.values()) - stated["withdrawn"]
    for kind in KIND.values():
        assert int(summary[f"{kind} decisions"]) == sum(int(r["decisions"]) for r in decided if r["decided_by"] == kind)
    assert int(summary["notices received"]) == sum(int(r["notices"]) for r in rows(written, "notices"))
    assert summary["from"] == START.isoformat() and summary["to (exclusive)"] == END.isoformat()


def test_the_tenant_report_counts_its_tenant_alone(seeded):
    """alpha's figures plus beta's are every tenant's: neither report leaks the other's rows."""
    sqlite_url, tenants = seeded

    def summary(scope: Scope) -> dict:
        return dict(build(sqlite_url, Period(START, END, scope, "x")).summary)

    alpha, beta = (summary(Scope(tenant_ids=frozenset({tenants[n]}))) for n in ("alpha", "beta"))
    every = summary(EVERY_TENANT)
    counted = [k for k, v in every.items() if isinstance(v, int)]
    assert len(counted) >= 8 and alpha != beta
    for key in counted:
        assert alpha[key] + beta[key] == every[key], key


def test_every_file_is_written_and_listed_and_the_charts_are_pngs(written):
    names = sorted(p.name for p in written["paths"])
    tables = ["appeals", "automation", "categories", "decisions", "notices", "statements", "time_to_decision"]
    assert names == sorted(["README.md", "summary.csv", "overview.png", *(f"{t}.csv" for t in tables),
                            *(f"{t}.png" for t in tables)])
    index = (written["dir"] / "README.md").read_text()
    assert all(f"`{name}`" in index for name in names if name != "README.md")
    for path in written["paths"]:
        if path.suffix == ".png":
            data = path.read_bytes()
            assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000, path.name
            with Image.open(path) as image:
                assert image.size[0] >= 800 and image.size[1] >= 500


def test_a_period_with_nothing_in_it_writes_zeros_and_empty_charts(seeded):
    sqlite_url, _ = seeded
    period = Period(datetime(2020, 1, 1, tzinfo=timezone.utc), datetime(2020, 2, 1, tzinfo=timezone.utc),
                    EVERY_TENANT, "*")
    report = build(sqlite_url, period)
    assert report.tables["categories"].rows == [] and report.tables["decisions"].rows == []
    assert {r[0]: r[1] for r in report.tables["statements"].rows} == dict.fromkeys(
        ["pending", "sent", "rejected", "withdrawn"], 0)
    charts = report_charts.charts(report)
    assert all(data.startswith(PNG_SIGNATURE) for data in charts.values())


@pytest.mark.parametrize(("values", "q", "expected"), [
    ([], 0.5, None), ([7.0], 0.9, 7.0), ([1.0, 2.0, 3.0, 4.0], 0.5, 2.5), ([4.0, 1.0, 3.0, 2.0], 0.9, 3.7),
    (list(range(11)), 0.9, 9.0)])
def test_percentile_interpolates_between_ranks(values, q, expected):
    assert percentile([float(v) for v in values], q) == (None if expected is None else pytest.approx(expected))


@pytest.mark.parametrize(("code", "shown"), [
    ("STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "Illegal or harmful speech"),
    ("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "Other violation of terms and conditions"),
    ("DECISION_GROUND_INCOMPATIBLE_CONTENT", "incompatible with terms"),
    ("AUTOMATED_DECISION_NOT_AUTOMATED", "not automated"), ("open", "open"), (None, "None")])
def test_chart_labels_are_plain_words(code, shown):
    assert report_charts.name(code) == shown


@pytest.mark.parametrize(("seconds", "shown"), [(0.4, "0 s"), (45, "45 s"), (150, "2.5 min"), (3 * 3600, "3.0 h"),
                                                (86400 * 2.1, "2.1 d")])
def test_durations_are_labelled_in_their_own_unit(seconds, shown):
    assert report_charts.duration(seconds) == shown


def test_the_chart_title_names_the_last_day_counted():
    def span(start: datetime, end: datetime) -> str:
        return report_charts.span(build_less(start, end))

    assert span(START, END) == "1 Mar 2026 to 31 Mar 2026"
    half_day = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    assert span(START, half_day) == "2026-03-01 00:00 to 2026-03-01 12:00 UTC"


def build_less(start: datetime, end: datetime):
    """A report with no tables: what the title needs is the period."""
    return Report(Period(start, end, EVERY_TENANT, "*"), {}, [])
