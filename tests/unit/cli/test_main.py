"""A bad setup ends every `modq` command with one line naming the setting and the fix, and exit 2: a
database never migrated, a database URL that does not parse, a PostgreSQL port nobody listens on, a broker
that does not answer. `modq --debug` shows the traceback instead."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from config.settings import get_settings
from moderation.bootstrap import Runtime, set_runtime
from moderation.cli import main
from moderation.cli.main import app
from moderation.infra import db
from moderation.infra.lease import LocalLeases
from tests.conftest import REPO, jpeg_bytes

runner = CliRunner()
THRESHOLDS = str(REPO / "config" / "thresholds.yaml")
COMMANDS = [
    ["items", "list"], ["items", "show", "abcd"], ["items", "retry", "--all-failed"], ["submit", "a.jpg"],
    ["review", "list"], ["review", "next"], ["review", "approve", "abcd", "--reason", "x"],
    ["review", "release", "abcd"], ["tokens", "list"], ["tokens", "create", "--role", "admin", "--name", "x"],
    ["tokens", "revoke", "x"], ["policy", "history"], ["policy", "show"], ["policy", "apply"],
    ["policy", "simulate", THRESHOLDS], ["policy", "diff", THRESHOLDS, "abcd"], ["bank", "list"],
    ["bank", "add", "a" * 64, "--verdict", "rejected"], ["bank", "remove", "1"], ["ingest", "rejects"], ["stats"],
    ["worker"],
]
MIGRATE = "does not have modq's current schema"


@pytest.fixture
def setup(rt, media_root, monkeypatch):
    """``modq`` run with MODQ_DATABASE_URL (and the rest) as given, its fakes kept; a worker never starts."""
    (media_root / "a.jpg").write_bytes(jpeg_bytes())
    monkeypatch.setattr(main.celery_app, "worker_main", lambda argv: pytest.fail("the worker started"))

    def use(**env: str) -> None:
        for name, value in {"MODQ_MEDIA_ROOT": str(media_root), **env}.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        runtime = Runtime(get_settings(), rt.policy, rt.dispatcher, rt.publisher)
        runtime._leases = LocalLeases()
        set_runtime(runtime)

    yield use
    set_runtime(None)
    get_settings.cache_clear()
    db.dispose_all()


def one_line(result) -> str:
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, lines
    return lines[0]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_database_never_migrated(setup, tmp_path, args):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    setup(MODQ_DATABASE_URL=url)
    line = one_line(runner.invoke(app, args))
    assert line.startswith(f"error: the database at {url} (MODQ_DATABASE_URL) {MIGRATE}")
    assert line.endswith(": run `modq db upgrade`")


@pytest.mark.parametrize("args", [*COMMANDS, ["db", "upgrade"]], ids=" ".join)
def test_a_database_url_that_does_not_parse(setup, args):
    setup(MODQ_DATABASE_URL="postgres//modq")
    assert one_line(runner.invoke(app, args)) == (
        "error: MODQ_DATABASE_URL 'postgres//modq' is not a database URL modq can use (Could not parse SQLAlchemy "
        "URL from given URL string); e.g. sqlite:///var/modq.db or postgresql://user:password@host:5432/modq")


@pytest.mark.parametrize("args", [*COMMANDS, ["db", "upgrade"]], ids=" ".join)
def test_a_postgres_port_nobody_listens_on(setup, args):
    setup(MODQ_DATABASE_URL="postgresql://modq:s3cretpassword@127.0.0.1:1/modq")
    line = one_line(runner.invoke(app, args))
    assert line.startswith("error: cannot use the database at postgresql://modq:[redacted]@127.0.0.1:1/modq "
                           "(MODQ_DATABASE_URL): connection failed: ")
    assert "Connection refused" in line


def test_the_worker_does_not_start_on_a_broker_that_does_not_answer(setup, sqlite_url):
    setup(MODQ_DATABASE_URL=sqlite_url, MODQ_BROKER_URL="redis://127.0.0.1:1/2")
    assert one_line(runner.invoke(app, ["worker"])) == (
        "error: cannot reach the broker at redis://127.0.0.1:1/2 (MODQ_BROKER_URL): Error 111 connecting to "
        "127.0.0.1:1. Connection refused.")


def test_the_worker_starts_when_the_database_and_broker_answer(setup, sqlite_url, monkeypatch):
    setup(MODQ_DATABASE_URL=sqlite_url)
    started = []
    monkeypatch.setattr(main.celery_app, "worker_main", started.append)
    result = runner.invoke(app, ["worker", "--pool", "solo", "--queues", "images"])
    assert result.exit_code == 0, result.output
    assert started[0][:5] == ["worker", "-Q", "images", "--pool", "solo"]


def test_submit_when_the_broker_does_not_take_the_task_names_it(setup, sqlite_url, rt):
    class Down:
        def moderate(self, *args):
            raise ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    setup(MODQ_DATABASE_URL=sqlite_url, MODQ_BROKER_URL="redis://:brokerpassword@127.0.0.1:1/2")
    set_runtime(Runtime(get_settings(), rt.policy, Down(), rt.publisher))
    result = runner.invoke(app, ["submit", "a.jpg"])
    assert result.exit_code == 0 and result.stdout.endswith(" queued\n")
    assert result.stderr.replace("\n", "") == (
        "warning: stored, but the broker at redis://:[redacted]@127.0.0.1:1/2 (MODQ_BROKER_URL) did not take the "
        "task; the reaper re-sends it once the broker answers")


def modq(*args: str, database_url: str) -> subprocess.CompletedProcess:
    exe = shutil.which("modq", path=os.path.dirname(sys.executable))
    command = [exe] if exe else [sys.executable, "-c", "from moderation.cli.main import main; main()"]
    env = {**os.environ, "MODQ_DATABASE_URL": database_url, "COLUMNS": "200"}
    return subprocess.run([*command, *args], env=env, capture_output=True, text=True, timeout=120)


def test_debug_shows_the_traceback_the_one_line_hides(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    plain = modq("items", "list", database_url=url)
    assert plain.returncode == 2 and plain.stdout == ""
    # `items list` reads its --tenant (default: default) first
    assert plain.stderr == (f"error: the database at {url} (MODQ_DATABASE_URL) {MIGRATE} (no such table: tenants): "
                            "run `modq db upgrade`\n")
    debug = modq("--debug", "items", "list", database_url=url)
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr
    assert "no such table: tenants" in debug.stderr and "error: " not in debug.stderr


def test_the_worker_refuses_a_queue_modq_does_not_have(setup, sqlite_url):
    setup(MODQ_DATABASE_URL=sqlite_url)
    assert one_line(runner.invoke(app, ["worker", "--queues", "images,imagse"])) == (
        "error: --queues: no queue 'imagse'; modq's queues are images, videos, alerts, maintenance, webhooks")
