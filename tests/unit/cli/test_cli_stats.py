"""`modq stats`: the report as JSON and as tables (the sections themselves: tests/unit/ops/test_stats.py)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from config.settings import get_settings
from moderation.bootstrap import set_runtime
from moderation.cli.main import app
from tests.unit.ops.test_stats import activity, broker  # noqa: F401 (fixtures)

runner = CliRunner()


def test_cli_json_and_table(rt, broker, activity, monkeypatch):
    monkeypatch.setenv("MODQ_DATABASE_URL", rt.settings.database_url)
    get_settings.cache_clear()
    set_runtime(rt)
    try:
        result = runner.invoke(app, ["stats", "--json", "--window", "5"])
        assert result.exit_code == 0, result.output
        body = json.loads(result.stdout)
        assert body["recent"]["window_seconds"] == 300
        assert body["items"]["by_status"]["rejected"] == 1
        table = runner.invoke(app, ["stats"])
        assert table.exit_code == 0, table.output
        for text in ("Queues (broker)", "images waiting", "Items", "Last 15 min", "Submit to decision",
                     "Alerts outbox", "Video jobs"):
            assert text in table.stdout
    finally:
        set_runtime(None)
        get_settings.cache_clear()
