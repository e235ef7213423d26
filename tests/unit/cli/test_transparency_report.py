"""`modq transparency report --from --to [--tenant] --out DIR`: writes the report's files and prints their paths
(the figures themselves are checked against the database in tests/unit/transparency/test_report.py); a bad date,
an empty period, an unknown tenant or an --out that is no directory is one line naming the option, exit 2, and
nothing written."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.cli.transparency_report import parse_when
from moderation.infra.db import transaction
from tests.unit.transparency.report_seed import Shape, seed, tenant

runner = CliRunner()
START, END = datetime(2026, 3, 1, tzinfo=timezone.utc), datetime(2026, 4, 1, tzinfo=timezone.utc)
FILES = {"README.md", "summary.csv", "overview.png"} | {
    f"{t}.{ext}" for t in ("categories", "decisions", "automation", "time_to_decision", "notices", "appeals",
                           "statements") for ext in ("csv", "png")}


@pytest.fixture
def seeded(cli_env) -> dict[str, int]:
    url = cli_env.settings.database_url
    ids = {"alpha": tenant(url, "alpha"), "beta": tenant(url, "beta")}
    seed(url, ids["alpha"], START, END, seed_value=3, shape=Shape(items=25))
    seed(url, ids["beta"], START, END, seed_value=4, shape=Shape(items=25))
    return ids


def summary(directory) -> dict[str, str]:
    return {r["measure"]: r["value"] for r in csv.DictReader((directory / "summary.csv").open())}


def automatic_decisions(rt, tenant_ids: list[int]) -> int:
    """The automatic decisions of the audit trail made in March 2026."""
    with transaction(rt.settings.database_url) as s:
        return s.scalar(text(
            "SELECT count(*) FROM audit_events e JOIN items i ON i.id = e.item_id WHERE i.tenant_id IN "
            f"({','.join(map(str, tenant_ids))}) AND e.action = 'decide' AND e.at >= '2026-03-01' "
            "AND e.at < '2026-04-01'"))


def test_report_writes_every_file_and_prints_them(cli_env, seeded, tmp_path):
    out = tmp_path / "q1" / "alpha"
    result = runner.invoke(app, ["transparency", "report", "--from", "2026-03-01", "--to", "2026-04-01",
                                 "--tenant", "alpha", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == FILES
    printed = result.stdout.splitlines()
    assert sorted(printed[:-1]) == sorted(str(out / name) for name in FILES)
    assert printed[-1] == f"wrote {len(FILES)} files to {out}"
    figures = summary(out)
    assert figures["tenant"] == "alpha" and figures["from"] == START.isoformat()
    assert int(figures["automatic decisions"]) == automatic_decisions(cli_env, [seeded["alpha"]]) > 0


def test_every_tenant_with_star_and_the_default_tenant_without_tenant(cli_env, seeded, tmp_path):
    every, default = tmp_path / "every", tmp_path / "default"
    args = ["transparency", "report", "--from", "2026-03-01", "--to", "2026-04-01"]
    assert runner.invoke(app, [*args, "--tenant", "*", "--out", str(every)]).exit_code == 0
    assert runner.invoke(app, [*args, "--out", str(default)]).exit_code == 0
    assert int(summary(every)["automatic decisions"]) == automatic_decisions(cli_env, list(seeded.values()))
    assert summary(default)["tenant"] == "default" and summary(default)["automatic decisions"] == "0"


def test_a_period_given_in_another_zone_is_the_same_utc_period(cli_env, seeded, tmp_path):
    """02:00+02:00 is midnight UTC, when a seeded decision was made: it counts (bound as 02:00, it would not)."""
    utc, zoned = tmp_path / "utc", tmp_path / "zoned"
    args = ["transparency", "report", "--tenant", "alpha"]
    assert runner.invoke(app, [*args, "--from", "2026-03-01", "--to", "2026-04-01", "--out", str(utc)]).exit_code == 0
    result = runner.invoke(app, [*args, "--from", "2026-03-01T02:00:00+02:00", "--to", "2026-03-31T19:00:00-05:00",
                                 "--out", str(zoned)])
    assert result.exit_code == 0, result.output
    figures = summary(zoned)
    assert figures["from"] == START.isoformat() and figures["to (exclusive)"] == END.isoformat()
    assert {k: v for k, v in figures.items()} == summary(utc)
    assert int(figures["automatic decisions"]) == automatic_decisions(cli_env, [seeded["alpha"]])


def test_a_second_run_replaces_the_files(cli_env, seeded, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.csv").write_text("stale")
    (out / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["transparency", "report", "--from", "2026-03-01", "--to", "2026-04-01",
                                 "--tenant", "beta", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert summary(out)["tenant"] == "beta" and (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize(("options", "message"), [
    (["--from", "2026-02-30", "--to", "2026-04-01"], "--from '2026-02-30': not a date"),
    (["--from", "2026-03-01", "--to", "next week"], "--to 'next week': not a date"),
    (["--from", "2026-04-01", "--to", "2026-04-01"], "--to '2026-04-01' must be after --from '2026-04-01'"),
    (["--from", "2026-05-01", "--to", "2026-04-01"], "must be after --from"),
    (["--from", "2026-03-01", "--to", "2026-04-01", "--tenant", "gamma"], "--tenant 'gamma': no such tenant"),
])
def test_a_bad_option_is_named_and_nothing_is_written(cli_env, seeded, tmp_path, options, message):
    out = tmp_path / "out"
    result = runner.invoke(app, ["transparency", "report", *options, "--out", str(out)])
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert not out.exists()


def test_an_out_that_is_a_file_is_refused_untouched(cli_env, seeded, tmp_path):
    out = tmp_path / "report"
    out.write_text("keep me")
    result = runner.invoke(app, ["transparency", "report", "--from", "2026-03-01", "--to", "2026-04-01",
                                 "--out", str(out)])
    assert result.exit_code == 2 and f"--out {out}: not a directory" in result.stderr
    assert out.read_text() == "keep me"


def test_every_option_but_tenant_is_required(cli_env, tmp_path):
    result = runner.invoke(app, ["transparency", "report", "--from", "2026-03-01", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "--to" in result.output
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-03-01", datetime(2026, 3, 1, tzinfo=timezone.utc)),
    ("2026-03-01T12:30", datetime(2026, 3, 1, 12, 30, tzinfo=timezone.utc)),
    ("2026-03-01T12:30:00+02:00", datetime(2026, 3, 1, 10, 30, tzinfo=timezone.utc)),
    ("2026-03-01T01:00:00-05:30", datetime(2026, 3, 1, 6, 30, tzinfo=timezone.utc)),
    (" 2026-03-01T00:00:00Z ", datetime(2026, 3, 1, tzinfo=timezone.utc)),
])
def test_dates_are_days_at_midnight_utc_or_iso_times_converted_to_utc(value, expected):
    """Aware datetimes compare equal across zones, so == alone would pass 12:30+02:00 unconverted: the wall
    time and the zone are checked too (SQLite binds the wall time and drops the offset)."""
    got = parse_when("--from", value)
    assert got == expected and got.utcoffset() == timedelta(0)
    assert got.replace(tzinfo=None) == expected.replace(tzinfo=None)
