"""modq submit --from FILE: a summary on stdout, each refused line on stderr with its number, exit 1 if any."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import func, select
from typer.testing import CliRunner

from moderation.bootstrap import InMemoryDispatcher
from moderation.cli.main import app
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.ops import reaper
from tests.conftest import jpeg_bytes

runner = CliRunner()
LINES = ['{"uri": "a.jpg", "external_id": "f-1"}', '{"uri": "/etc/passwd", "external_id": "f-2"}',
         '{"uri": "b.jpg", "external_id": "f-1"}', "{oops", '{"uri": "c.jpg", "external_id": "f-5"}']


def count(rt) -> int:
    with transaction(rt.settings.database_url) as s:
        return s.scalar(select(func.count()).select_from(m.Item))


def write(tmp_path, media_root, name: str = "items.ndjson", lines=LINES):
    for photo in ("a.jpg", "b.jpg", "c.jpg"):
        (media_root / photo).write_bytes(jpeg_bytes())
    source = tmp_path / name
    source.write_text("\n".join(lines) + "\n")
    return source


def test_mixed_lines_summary_and_refusals_with_line_numbers(cli_env, media_root, tmp_path):
    source = write(tmp_path, media_root)
    result = runner.invoke(app, ["submit", "--from", str(source), "--batch", "2"])
    assert result.exit_code == 1, result.output  # a line was refused; the others are stored all the same
    assert result.stdout.strip() == f"{source}: created 2, already known 1, refused 2"
    assert "line 2: path '/etc/passwd' is outside the media root" in result.stderr
    assert "line 4: not valid JSON" in result.stderr
    assert count(cli_env) == 2 and sorted(cli_env.dispatcher.batches) == [1, 1]

    again = runner.invoke(app, ["submit", "--from", str(source), "--json"])  # a re-run stores nothing new
    body = json.loads(again.stdout)
    assert (body["created"], body["already_known"], body["refused"]) == (0, 3, 2)
    assert [r["line"] for r in body["refused_lines"]] == [2, 4] and count(cli_env) == 2


def test_csv_and_stdin(cli_env, media_root, tmp_path):
    source = write(tmp_path, media_root, "items.csv", ["uri,external_id,metadata", 'a.jpg,s-1,"{""k"": 1}"',
                                                         "b.jpg,s-2,"])
    assert runner.invoke(app, ["submit", "--from", str(source)]).exit_code == 0
    piped = runner.invoke(app, ["submit", "--from", "-"], input='{"uri": "c.jpg", "external_id": "s-3"}\n')
    assert piped.exit_code == 0 and piped.stdout.strip() == "stdin: created 1, already known 0, refused 0"
    assert count(cli_env) == 3


def test_a_file_that_cannot_be_read_exits_2_and_stores_nothing(cli_env, media_root, tmp_path):
    bad = write(tmp_path, media_root, "bad.csv", ["url", "a.jpg"])
    result = runner.invoke(app, ["submit", "--from", str(bad)])
    assert result.exit_code == 2 and "line 1 must name the columns" in result.stderr
    missing = runner.invoke(app, ["submit", "--from", str(tmp_path / "nope.ndjson")])
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    assert count(cli_env) == 0


def test_a_uri_and_a_file_together_or_neither_is_a_usage_error(cli_env, media_root, tmp_path):
    source = write(tmp_path, media_root)
    both = runner.invoke(app, ["submit", "a.jpg", "--from", str(source)])
    assert both.exit_code == 2 and "not both" in both.stderr
    neither = runner.invoke(app, ["submit"])
    assert neither.exit_code == 2 and "give a media URI, or --from FILE" in neither.stderr
    assert count(cli_env) == 0


def test_broker_down_warns_and_the_reaper_sends_them_later(cli_env, media_root, tmp_path):
    class DownDispatcher:
        def moderate_many(self, items):
            raise ConnectionError("redis down")

    cli_env.dispatcher = DownDispatcher()
    source = write(tmp_path, media_root, lines=LINES[:1] + LINES[4:])
    result = runner.invoke(app, ["submit", "--from", str(source)])
    assert result.exit_code == 0 and "created 2" in result.stdout
    assert "2 stored, but the broker" in result.stderr and "the reaper re-sends them" in result.stderr

    cli_env.dispatcher = InMemoryDispatcher()
    later = utcnow() + timedelta(seconds=cli_env.settings.reaper_stuck_after_seconds + 1)
    assert len(reaper.reap(cli_env, now=later)) == 2 and len(cli_env.dispatcher.sent) == 2


def test_the_progress_bar_is_drawn_on_stderr_in_a_terminal(cli_env, media_root, tmp_path, monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich's own switch: stderr counts as a terminal
    source = write(tmp_path, media_root)
    result = runner.invoke(app, ["submit", "--from", str(source), "--json"])
    assert json.loads(result.stdout)["created"] == 2  # stdout stays the command's output
    assert re.search(r"submitting .*5/5 lines", re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", result.stderr))
