"""`modq demo`: the whole pipeline on the bundled samples, ending with every outcome a person meets.

Runs real Celery workers on Redis and the configured database (SQLite in
``var/`` by default), one per phase of ``demo_cases``: recorded answers
replayed (said plainly: not AWS), then the offline model, a broken file and a
hash-bank match. Prints each item's outcome with what decided it, and the next
steps with a reviewer token already made. ``--serve`` then keeps the API, the
review console and the offline worker running until Ctrl-C. Needs only Redis.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Optional

import redis
import typer
from rich.console import Console
from rich.progress import Progress

from config.settings import get_settings
from moderation.api import server
from moderation.bootstrap import build_runtime
from moderation.cli import demo_cases as cases, demo_report as report
from moderation.cli.common import celery_dispatcher, operator, out
from moderation.infra import logs, migrate
from moderation.items import services as service
from moderation.domain.tenancy import DEFAULT_TENANT_ID, EVERY_TENANT
from moderation.items.models import TERMINAL
from moderation.items.queries import statuses
from moderation.review.views import item_outcome

REPO = cases.REPO
MEDIA_ROOT = Path("var/demo-media")
WORKER_LOG = Path("var/demo-worker.log")
DEMO_KEY_PREFIX = "modq-demo:"


def demo(timeout: float = typer.Option(180, help="Seconds to wait for each phase's decisions"),
         serve: bool = typer.Option(False, "--serve", help="Afterwards keep the API, the review console and an "
                                    "offline worker running (Ctrl-C stops them)"),
         host: Optional[str] = typer.Option(None, help="--serve: default MODQ_API_HOST (127.0.0.1)"),
         port: Optional[int] = typer.Option(None, help="--serve: default MODQ_API_PORT (8000)")) -> None:
    """Moderate the bundled samples end to end: approved, flagged, rejected and failed items, then next steps."""
    raise typer.Exit(run(out, timeout, serve=serve, host=host, port=port))


def run(console: Console, timeout: float, serve: bool = False, host: str | None = None,
        port: int | None = None) -> int:
    exports = prepare_environment()
    settings = get_settings()
    migrate.upgrade(settings.database_url)
    _check_broker(settings.broker_url)
    phases = cases.prepare(settings)
    rt = build_runtime(settings, celery_dispatcher())
    run_id = uuid.uuid4().hex[:6]
    origin = service.Origin(DEFAULT_TENANT_ID, actor=operator())  # the demo's items: the tenant default's
    ids: list[str] = []
    worker = None
    try:
        for n, phase in enumerate(phases):
            previous, worker = worker, _start_worker(phase.worker_env, append=n > 0)  # boots while the last stops
            if previous is not None:
                _reap(previous)  # gone before this phase's items are sent: no item meets the wrong provider
            root = Path(settings.media_root)
            batch = [service.submit(str(f.relative_to(root)), external_id=f"demo-{run_id}-{f.relative_to(root)}",
                                    rt=rt, origin=origin).item_id for f in phase.files]
            ids += batch
            if not _wait(console, phase.name, settings.database_url, batch, timeout):
                console.print(f"[red]timed out after {timeout:.0f}s waiting for {phase.name}; is the worker able "
                              f"to reach Redis? (its log: {WORKER_LOG})[/red]")
                return 1
            if n < len(phases) - 1 or not serve:
                _shut_down(worker)  # warm shutdown takes ~2 s: reaped after the next boot, or the report
        views = [item_outcome(settings.database_url, i, scope=EVERY_TENANT) for i in ids]
        console.print(report.outcome_table(views, Path(settings.media_root)))
        report.summary(console, views)
        console.print(f"database: {settings.database_url}  policy: {rt.active_policy().version}  "
                      f"worker log (alerts included): {WORKER_LOG}", highlight=False)
        url = f"http://{host or settings.api_host}:{port or settings.api_port}" if serve else None
        report.next_steps(console, settings, exports, url)
        if serve:
            console.print(f"\nserving the API and the review console at {url} with an offline worker; "
                          "Ctrl-C stops both", highlight=False)
            logs.configure(settings.log_format, settings.log_level)
            server.serve(settings, host=host or settings.api_host, port=port or settings.api_port, workers=1)
        return 0
    finally:
        if worker is not None:
            _shut_down(worker)
            _reap(worker)


def prepare_environment() -> dict[str, str]:
    """Point this process and its workers at the demo's media root (unless MODQ_MEDIA_ROOT is set) and pin a
    relative SQLite path to this directory (the workers run from the repository). Returns the variables it
    set that the next-step commands need too."""
    exports = {}
    if "MODQ_MEDIA_ROOT" not in os.environ:
        os.environ["MODQ_MEDIA_ROOT"] = exports["MODQ_MEDIA_ROOT"] = str(MEDIA_ROOT.resolve())
    if not os.environ.get("MODQ_BROKER_KEY_PREFIX"):
        # Queues of the demo's own on the broker: a worker already running on this Redis (the quick start's,
        # another checkout's) would otherwise take the demo's tasks and find no such item in its database.
        os.environ["MODQ_BROKER_KEY_PREFIX"] = exports["MODQ_BROKER_KEY_PREFIX"] = DEMO_KEY_PREFIX
    get_settings.cache_clear()
    url = get_settings().database_url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        os.environ["MODQ_DATABASE_URL"] = "sqlite:///" + str(Path(url.removeprefix("sqlite:///")).resolve())
        get_settings.cache_clear()
    WORKER_LOG.parent.mkdir(parents=True, exist_ok=True)
    return exports


def _check_broker(url: str) -> None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        raise SystemExit(f"cannot reach the broker at {url} ({exc}); start Redis or set MODQ_BROKER_URL")


def _start_worker(env: dict[str, str], append: bool) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "celery", "-A", "worker", "worker", "-Q", "images,alerts",
           "--concurrency", "2", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"]
    with open(WORKER_LOG, "a" if append else "w") as log:  # the child keeps its own descriptor
        return subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env})


def _shut_down(worker: subprocess.Popen) -> None:
    """Ask for a warm shutdown: in-flight work (an alert, say) finishes, nothing new is taken."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)


def _reap(worker: subprocess.Popen) -> None:
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _wait(console: Console, name: str, database_url: str, ids: list[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(name, total=len(ids))
        while time.monotonic() < deadline:
            finished = sum(status in TERMINAL for status in statuses(database_url, ids).values())
            progress.update(task, completed=finished)
            if finished == len(ids):
                return True
            time.sleep(0.3)
    return False
