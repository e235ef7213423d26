"""``modq.submit_statements``: on the maintenance queue, acked late, scheduled by beat only when
MODQ_DSA_TDB_URL is set, and one call of ``transparency.submission.send_due``."""

from __future__ import annotations

import os
import subprocess
import sys

from moderation.bootstrap import set_runtime
from tests.fakes.transparency_db import FakeTransparencyDatabase
from tests.statement_rows import add_statements, rows_by_puid
from worker import tasks
from worker.app import app


def test_the_task_is_routed_to_maintenance_and_acked_late():
    assert app.conf.task_routes["modq.submit_statements"]["queue"] == "maintenance"
    assert tasks.submit_statements.acks_late is True


def test_beat_sends_statements_only_when_the_database_url_is_set():
    code = "from worker.app import app; print(app.conf.beat_schedule.get('submit-statements'))"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODQ_DSA")}
    off = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    on = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                        env={**env, "MODQ_DSA_TDB_URL": "https://transparency.example", "MODQ_DSA_TDB_TOKEN": "t",
                             "MODQ_DSA_TDB_INTERVAL_SECONDS": "45"}).stdout
    assert off.strip() == "None"
    assert "'task': 'modq.submit_statements'" in on and "'schedule': 45.0" in on


def test_the_task_sends_what_is_due(rt, make_settings):
    with FakeTransparencyDatabase(token="t") as fake:
        rt.settings = make_settings(dsa_tdb_url=fake.url, dsa_tdb_token="t", dsa_tdb_requests_per_second=200)
        puids = add_statements(rt.settings.database_url, 2)
        set_runtime(rt)
        try:
            summary = tasks.submit_statements()
        finally:
            set_runtime(None)
        assert summary["sent"] == 2 and set(fake.statements) == set(puids)
    assert {row.state for row in rows_by_puid(rt.settings.database_url).values()} == {"sent"}
