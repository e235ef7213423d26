"""`modq review bulk` against SQLite (issue 17.4): ids (prefixes too) or, with --admin, all matching with the
count confirmed; every item listed with its outcome."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.review import services as review
from moderation.review.models import Review
from tests.review_items import decided_item

runner = CliRunner()


@pytest.fixture
def flagged(rt, media_root, fake_provider):
    return lambda label="Hate Symbols", conf=70: decided_item(rt, media_root, fake_provider, label, conf)


def status(rt, item_id: str) -> str:
    with transaction(rt.settings.database_url) as s:
        return s.get(m.Item, item_id).status


def test_bulk_by_ids_lists_each_outcome(cli_env, flagged):
    a, b, held = flagged(), flagged(), flagged()
    review.claim(cli_env, "bob", item_id=held)
    done = runner.invoke(app, ["review", "bulk", "--verdict", "rejected", "--reason", "spam wave", "--reviewer",
                               "dana", "--ids", f"{a[:8]},{b},{held},nope", "--json"])
    assert done.exit_code == 0, done.output
    body = json.loads(done.stdout[done.stdout.index("{\n"):])  # after the log lines
    assert [(r["item_id"], r["outcome"], r["reason"]) for r in body["results"]] == [
        (a, "reviewed", None), (b, "reviewed", None), (held, "skipped", "leased"), ("nope", "skipped", "not_found")]
    assert (status(cli_env, a), status(cli_env, held)) == ("rejected", "flagged")


def test_a_reason_code_goes_with_every_item_and_an_unknown_one_decides_none(cli_env, flagged):
    a, b = flagged(), flagged()
    base = ["review", "bulk", "--verdict", "rejected", "--reason", "hate wave", "--reviewer", "dana", "--ids", f"{a},{b}"]
    done = runner.invoke(app, [*base, "--reason-code", "hate-symbol"])
    assert done.exit_code == 0, done.output
    with transaction(cli_env.settings.database_url) as s:
        codes = s.scalars(select(Review.reason_code).where(Review.item_id.in_([a, b]))).all()
    assert codes == ["hate-symbol", "hate-symbol"]
    c = flagged()
    refused = runner.invoke(app, [*base[:-1], c, "--reason-code", "no-such-code", "--json"])
    body = json.loads(refused.stdout[refused.stdout.index("{\n"):])
    assert [(r["outcome"], r["reason"]) for r in body["results"]] == [("skipped", "refused")]
    assert status(cli_env, c) == "flagged"


def test_all_matching_needs_admin_and_the_count(cli_env, flagged):
    items = [flagged(), flagged()]
    base = ["review", "bulk", "--verdict", "approved", "--reason", "old policy", "--all-matching"]
    counted = runner.invoke(app, ["review", "bulk", "--all-matching", "--count"])
    assert counted.exit_code == 0 and counted.stdout.strip().splitlines()[-1] == "2"
    refused = runner.invoke(app, [*base, "--expected", "2"])
    assert refused.exit_code == 1 and "only an admin" in refused.output
    changed = runner.invoke(app, [*base, "--expected", "3", "--admin"])
    assert changed.exit_code == 1 and "not the 3 you confirmed" in changed.output
    assert [status(cli_env, i) for i in items] == ["flagged", "flagged"]
    done = runner.invoke(app, [*base, "--expected", "2", "--admin"])
    assert done.exit_code == 0 and "2 approved" in done.output
    assert [status(cli_env, i) for i in items] == ["approved", "approved"]


@pytest.mark.parametrize(("args", "says"), [
    (["--verdict", "approved", "--reason", "x"], "--ids or --all-matching"),
    (["--verdict", "approved", "--reason", "x", "--ids", "a", "--all-matching"], "--ids or --all-matching"),
    (["--reason", "x", "--ids", "a"], "--verdict and --reason"),
    (["--verdict", "approved", "--reason", " ", "--ids", "a"], "reason"),
    (["--verdict", "approved", "--reason", "x", "--all-matching", "--label", "Hate Symbolz", "--count"], "--label"),
])
def test_bad_arguments_exit_2_and_decide_nothing(cli_env, flagged, args, says):
    item_id = flagged()
    result = runner.invoke(app, ["review", "bulk", *[item_id if a == "a" else a for a in args]])
    assert result.exit_code == 2 and says in " ".join(result.output.split())
    assert status(cli_env, item_id) == "flagged"
