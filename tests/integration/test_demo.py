"""`modq demo --serve` end to end, as `make demo` runs it: real Celery workers on Redis (the test database),
the offline model, the recorded provider, the hash bank, SQLite in a fresh directory; then the API and the
review console it keeps serving, signed in with the reviewer token it printed."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass

import pytest

from moderation.domain.tenancy import EVERY_TENANT
from moderation.review.views import item_outcomes

pytestmark = pytest.mark.integration
SERVING = "serving the API and the review console"


@dataclass
class DemoRun:
    output: str
    base: str
    token: str
    database_url: str


@pytest.fixture(scope="module")
def demo_run(broker_url, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("demo")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODQ_")}
    env.update(MODQ_BROKER_URL=broker_url, COLUMNS="220", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-c", "from moderation.cli.main import main; main()", "demo",
                             "--serve", "--port", str(port)], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 240
    while SERVING not in "".join(lines) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, deadline, lines)
        output = "".join(lines)
        token = re.search(r"^\s+(modq_\S+)$", output, re.M)
        assert token, output
        yield DemoRun(output, base, token.group(1), f"sqlite:///{cwd}/var/modq.db")
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C: the server stops, then the demo stops its worker
        code = proc.wait(60)
        reader.join(5)
    assert code == 0, "".join(lines)[-3000:]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(base: str, deadline: float, lines: list[str]) -> None:
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the API did not come up; the demo said:\n" + "".join(lines)[-4000:])


def test_the_demo_ends_with_all_four_outcomes_each_labelled_with_what_decided_it(demo_run):
    out = " ".join(demo_run.output.split())
    assert "outcomes: 6 approved, 2 flagged, 1 rejected, 1 failed" in out, demo_run.output
    for media, outcome, by in [
        ("replayed/rocket.jpg", "flagged", "recorded answer, replayed (not AWS)"),
        ("replayed/camera.png", "flagged", "recorded answer, replayed (not AWS)"),
        ("replayed/coffee.jpg", "approved", "recorded answer, replayed (not AWS)"),
        ("chelsea.jpg", "approved", "offline model (NudeNet)"),
        ("not-really-a-photo.jpg", "failed", "media check (bad input)"),
        ("reupload-of-known-bad.png", "rejected", "hash bank (no model call)"),
    ]:
        assert re.search(rf"│ {re.escape(media)} +│ {outcome} +│ {re.escape(by)} +│", demo_run.output), media
    assert "no call to AWS was made" in out and "The offline model and the hash bank ran for real" in out
    # What the table says is what the database holds.
    views = {v["media_uri"].rsplit("/demo-media/", 1)[-1]: v for v in item_outcomes(demo_run.database_url, scope=EVERY_TENANT)}
    assert {v["status"] for v in views.values()} == {"approved", "flagged", "rejected", "failed"}
    assert views["replayed/camera.png"]["provider"] == "recorded"
    assert views["replayed/camera.png"]["model_version"].startswith("recorded-")
    assert views["chelsea.jpg"]["provider"] == "local" and views["chelsea.jpg"]["model_version"].startswith("nudenet")
    assert views["reupload-of-known-bad.png"]["reasons"][0].startswith("hash bank entry #")


def test_the_demo_prints_the_next_steps(demo_run):
    out = demo_run.output
    for step in (f"  {demo_run.base}/login", demo_run.token, "modq review next --reviewer demo-reviewer",
                 "modq stats --since 1h", "modq policy simulate var/demo-candidate.yaml --since 1h",
                 "export MODQ_MEDIA_ROOT=", "modq transparency export --since 1h"):
        assert step in out, step


def test_serve_answers_with_the_flagged_items_in_the_review_queue(demo_run):
    request = urllib.request.Request(demo_run.base + "/v1/review/queue",
                                     headers={"Authorization": f"Bearer {demo_run.token}"})
    page = json.load(urllib.request.urlopen(request, timeout=10))
    assert sorted(i["external_id"].split("-", 2)[2] for i in page["items"]) == ["replayed/camera.png",
                                                                               "replayed/rocket.jpg"]
    assert {lab["name"] for i in page["items"] for lab in i["top_labels"]} >= {"Weapons", "Explosions and Blasts"}


def test_the_console_signed_in_with_the_printed_token_lists_them(demo_run):
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = browser.open(demo_run.base + "/login", timeout=10).read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode({"token": demo_run.token, "csrf": csrf}).encode()
    queue = browser.open(demo_run.base + "/login", data=body, timeout=10).read().decode()  # 303 -> the queue
    assert "Review queue" in queue and "2 waiting" in " ".join(queue.split())
    assert "replayed/rocket.jpg" in queue and "replayed/camera.png" in queue


def test_the_demos_rejection_has_its_statement_of_reasons(demo_run):
    def get(path: str) -> dict:
        request = urllib.request.Request(demo_run.base + path, headers={"Authorization": f"Bearer {demo_run.token}"})
        return json.load(urllib.request.urlopen(request, timeout=10))

    rejected = get("/v1/items?verdict=rejected")["items"]
    assert len(rejected) == 1
    found = get(f"/v1/items/{rejected[0]['id']}/statement")
    assert (found["decision"], found["state"]) == ("automatic", "pending")  # no MODQ_DSA_TDB_URL: kept, not sent
    assert found["statement"]["automated_decision"] == "AUTOMATED_DECISION_FULLY"
    assert found["statement"]["puid"].startswith(f"default_{rejected[0]['id']}_d")
