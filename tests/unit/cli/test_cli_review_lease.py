"""`modq review renew ITEM` (issue 17.3): the holder keeps a claimed item longer; an ended, someone else's or
no lease exits 1 saying why, a lease_seconds out of bounds exits 2, nothing changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.infra.clock import utcnow
from moderation.review import services as review
from tests.review_items import decided_item, ends_in, lease_of

runner = CliRunner()



@pytest.fixture
def claimed(cli_env, rt, media_root, fake_provider):
    """An item dana claimed; its lease ends in 30 s."""
    item_id = decided_item(rt, media_root, fake_provider)
    review.claim(rt, "dana", item_id=item_id)
    ends_in(rt, item_id, 30)
    return item_id




def test_renew_by_id_prefix(rt, claimed):
    result = runner.invoke(app, ["review", "renew", claimed[:8], "--lease-seconds", "600"])
    assert result.exit_code == 0, result.output
    owner, until = lease_of(rt, claimed)
    assert owner == "dana" and until > utcnow() + timedelta(seconds=590)
    assert f"{claimed} yours until {until:%H:%M:%S} UTC (" in result.stdout


def test_someone_else_s_lease_is_refused(rt, claimed):
    held = lease_of(rt, claimed)
    result = runner.invoke(app, ["review", "renew", claimed, "--reviewer", "mallory"])
    assert result.exit_code == 1 and "is leased to dana, not to you" in result.stderr
    assert lease_of(rt, claimed) == held


def test_an_ended_lease_is_refused(rt, claimed):
    ends_in(rt, claimed, -1)
    held = lease_of(rt, claimed)
    result = runner.invoke(app, ["review", "renew", claimed])
    assert result.exit_code == 1 and "claim it again" in result.stderr
    assert lease_of(rt, claimed) == held


@pytest.mark.parametrize("seconds, message", [("5", "lease_seconds must be at least 10"),
                                              ("99999", "over the limit of 3600 seconds")])
def test_bounds(rt, claimed, seconds, message):
    held = lease_of(rt, claimed)
    result = runner.invoke(app, ["review", "renew", claimed, "--lease-seconds", seconds])
    assert result.exit_code == 2 and message in result.stderr
    assert lease_of(rt, claimed) == held


def test_an_unknown_item(claimed):
    result = runner.invoke(app, ["review", "renew", "ffffffff-none"])
    assert result.exit_code == 1 and "no item 'ffffffff-none'" in result.stderr
