"""`modq demo`: the whole pipeline on the bundled sample photos.

Starts a real Celery worker, submits every sample (plus one deliberately
broken file, to show how bad input ends), waits for decisions with a progress
bar and prints them. Needs only Redis on localhost.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis
from rich.console import Console
from rich.progress import Progress

from config.settings import get_settings
from moderation.bootstrap import build_runtime
from moderation.cli.common import celery_dispatcher
from moderation.cli.items import items_table
from moderation.infra import migrate
from moderation.items import services as service
from moderation.items.models import TERMINAL
from moderation.items.queries import statuses
from moderation.review.views import item_outcome

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
MEDIA = ("*.jpg", "*.jpeg", "*.png")


def prepare_media(root: Path) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    files = sorted(p for pattern in MEDIA for p in SAMPLES.glob(pattern))
    if not files:
        raise SystemExit(f"no sample images found in {SAMPLES}")
    for src in files:
        shutil.copy2(src, root / src.name)
    broken = root / "not-really-a-photo.jpg"
    broken.write_text("this is a text file with a .jpg name\n")
    return [root / f.name for f in files] + [broken]


def run(console: Console, timeout: float) -> int:
    os.environ.setdefault("MODQ_MEDIA_ROOT", str(Path("var/demo-media").resolve()))
    get_settings.cache_clear()
    settings = get_settings()
    migrate.upgrade(settings.database_url)
    files = prepare_media(settings.media_root)
    rt = build_runtime(settings, celery_dispatcher())
    _check_broker(settings.broker_url)
    worker = _start_worker()
    try:
        run_id = uuid.uuid4().hex[:6]
        ids = [service.submit(str(f.name), external_id=f"demo-{run_id}-{f.name}", rt=rt).item_id for f in files]
        done = _wait(console, settings.database_url, ids, timeout)
        _print_table(console, settings.database_url, ids)
    finally:
        worker.send_signal(signal.SIGTERM)  # warm shutdown: in-flight work finishes
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
    if not done:
        console.print(f"[red]timed out after {timeout:.0f}s; is the worker able to reach Redis?[/red]")
        return 1
    console.print(f"database: {settings.database_url}  provider: {settings.provider}  "
                  f"policy: {rt.active_policy().version}", highlight=False)
    return 0


def _check_broker(url: str) -> None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        raise SystemExit(f"cannot reach the broker at {url} ({exc}); start Redis or set MODQ_BROKER_URL")


def _start_worker() -> subprocess.Popen:
    cmd = [sys.executable, "-m", "celery", "-A", "worker", "worker", "-Q", "images,alerts",
           "--concurrency", "2", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"]
    log = open(Path("var/demo-worker.log"), "w")
    return subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())


def _wait(console: Console, database_url: str, ids: list[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("moderating", total=len(ids))
        while time.monotonic() < deadline:
            finished = sum(status in TERMINAL for status in statuses(database_url, ids).values())
            progress.update(task, completed=finished)
            if finished == len(ids):
                return True
            time.sleep(0.3)
    return False


def _print_table(console: Console, database_url: str, ids: list[str]) -> None:
    console.print(items_table([item_outcome(database_url, i) for i in ids]))
