"""`modq review next` shows why the claimed item was reported (issue 18.4 review finding): its open notices'
explanations, a trusted flagger's marked, printed as text; never the notifier's name or e-mail."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.domain.tenancy import DEFAULT_TENANT_ID
from moderation.transparency import notice_filing
from moderation.transparency.notice_input import NoticeIn
from tests.review_items import decided_item
from tests.transparency_items import IWF, trusted_flaggers  # noqa: F401 (an autouse fixture)

runner = CliRunner()



@pytest.fixture
def item(rt, media_root, fake_provider):
    return lambda external_id, label=None: decided_item(rt, media_root, fake_provider, label, 70,
                                                        external_id=external_id)


def file(rt, external_id: str, explanation: str, **fields) -> None:
    notice_filing.file(rt, NoticeIn(external_id=external_id, explanation=explanation, good_faith=True, **fields),
                       tenant_id=DEFAULT_TENANT_ID, actor="forum-backend")


def test_review_next_prints_the_open_notices_without_the_notifier(cli_env, item):
    item("post-1")
    file(cli_env, "post-1", "Hate flag [bold]x[/bold] <b>", notifier_name="A. User",
         notifier_email="a.user@example.org")
    file(cli_env, "post-1", "Terror propaganda", notifier_name=IWF, notifier_email="r@iwf.example",
         trusted_flagger=True)
    shown = runner.invoke(app, ["review", "next"])
    assert shown.exit_code == 0, shown.output
    assert "reported by 2 open notice(s):" in shown.stdout
    lines = [line for line in shown.stdout.splitlines() if line.startswith("  - ")]
    assert len(lines) == 2
    assert lines[0].endswith(": Hate flag [bold]x[/bold] <b>")  # the notifier's text as they wrote it
    assert "[trusted flagger]" not in lines[0]
    assert lines[1].startswith("  - [trusted flagger] ") and lines[1].endswith(": Terror propaganda")
    for secret in ("A. User", "a.user@example.org", IWF, "r@iwf.example", "forum-backend"):
        assert secret not in shown.stdout


def test_review_next_json_has_the_notices_without_the_notifier(cli_env, item):
    item("post-2")
    file(cli_env, "post-2", "Report", notifier_name="A. User", notifier_email="a.user@example.org")
    shown = runner.invoke(app, ["review", "next", "--json"])
    assert shown.exit_code == 0, shown.output
    [notice] = json.loads(shown.stdout)["notices"]
    assert (notice["explanation"], notice["trusted_flagger"], notice["state"]) == ("Report", False, "open")
    assert "A. User" not in shown.stdout and "a.user@example.org" not in shown.stdout


def test_review_next_of_an_unreported_item_says_nothing_of_notices(cli_env, item):
    item("post-3", "Hate Symbols")
    shown = runner.invoke(app, ["review", "next"])
    assert shown.exit_code == 0, shown.output
    assert "notice" not in shown.stdout
