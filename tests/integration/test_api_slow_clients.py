"""Slow clients cannot starve the API (issue 12): a real `modq api` process on
127.0.0.1 with 1,100 connections open that sent nothing, half a request head or
half a body. `/healthz` and a submit still answer within 2 s (or are refused at
once, past MODQ_API_MAX_CONNECTIONS); the server cuts the slow connections
itself after MODQ_API_READ_TIMEOUT_SECONDS, while their clients still hold them,
and then answers as before, without a restart.

The server starts with a soft open-file limit of 1024, the one systemd services
and Docker containers get by default: 1,100 idle connections used to exhaust it,
after which nothing was accepted at all.
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from moderation.tenants import tokens
from tests.conftest import jpeg_bytes
from tests.integration.conftest import _free_port

pytestmark = pytest.mark.integration

SLOW_CONNECTIONS = 1100
DEFAULT_SOFT_FILE_LIMIT = 1024
READ_TIMEOUT = 3  # MODQ_API_READ_TIMEOUT_SECONDS for the server under test
ANSWER_WITHIN = 2.0  # the acceptance: answered within 2 s, or refused at once
# What each slow connection sends, then nothing more: nothing, part of a head, a head and part of its body.
SLOW_OPENINGS = [
    b"",
    b"GET /v1/items HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer modq_",
    b"POST /v1/items HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 900\r\n\r\n{",
]


@pytest.fixture
def open_file_room():
    """Room in this process for the slow connections; the server needs its bound + 128 too."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 4000 + 256
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"hard RLIMIT_NOFILE is {hard}; this test opens {SLOW_CONNECTIONS} connections")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, needed), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


class ApiProcess:
    def __init__(self, env: dict[str, str], log_path: Path):
        self.media_uri = str(Path(env["MODQ_MEDIA_ROOT"]) / "cat.jpg")
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "w")
        command = [sys.executable, "-c", "from moderation.cli.main import main; main()",
                   "api", "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = subprocess.Popen(command, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     preexec_fn=_default_soft_file_limit)
        deadline = time.monotonic() + 60
        while request(self.base_url + "/healthz") != 200:
            assert self.proc.poll() is None and time.monotonic() < deadline, f"modq api did not start:\n{self.log()}"
            time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text()[-3000:]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()


def _default_soft_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (DEFAULT_SOFT_FILE_LIMIT, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


def request(url: str, body: dict | None = None, token: str | None = None) -> int | str:
    """The status answered within ANSWER_WITHIN seconds, "refused" (connection refused or
    reset at once), or "timed out"."""
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers),
                                    timeout=ANSWER_WITHIN) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (TimeoutError, socket.timeout):
        return "timed out"
    except urllib.error.URLError as exc:
        return "timed out" if isinstance(exc.reason, (TimeoutError, socket.timeout)) else "refused"
    except (ConnectionError, OSError):
        return "refused"


def open_slow_connections(port: int) -> list[socket.socket]:
    connections = []
    for i in range(SLOW_CONNECTIONS):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if opening := SLOW_OPENINGS[i % len(SLOW_OPENINGS)]:
            sock.sendall(opening)
        connections.append(sock)
    return connections


def closed_by_server(connections: list[socket.socket], within: float) -> int:
    """How many of the connections the server closed (EOF or reset) within ``within`` seconds.
    Any bytes it sent first (a 503) are read and ignored."""
    open_ones = selectors.DefaultSelector()
    for sock in connections:
        sock.setblocking(False)
        open_ones.register(sock, selectors.EVENT_READ)
    closed, deadline = 0, time.monotonic() + within
    while open_ones.get_map() and time.monotonic() < deadline:
        for key, _ in open_ones.select(timeout=max(0.0, deadline - time.monotonic())):
            try:
                ended = key.fileobj.recv(65536) == b""
            except OSError:  # reset
                ended = True
            if ended:
                open_ones.unregister(key.fileobj)
                closed += 1
    open_ones.close()
    return closed


@pytest.fixture
def start_api(pg_url, broker_url, tmp_path, open_file_room):
    media = tmp_path / "media"
    media.mkdir()
    (media / "cat.jpg").write_bytes(jpeg_bytes())
    token = tokens.create(pg_url, f"forum-{uuid.uuid4().hex[:6]}", "ingest", created_by="test")[1]
    started: list[ApiProcess] = []

    def start(max_connections: int) -> tuple[ApiProcess, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MODQ_")}
        env.update({"MODQ_DATABASE_URL": pg_url, "MODQ_BROKER_URL": broker_url, "MODQ_MEDIA_ROOT": str(media),
                    "MODQ_LOG_FORMAT": "json", "MODQ_API_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT),
                    "MODQ_API_MAX_CONNECTIONS": str(max_connections)})
        started.append(ApiProcess(env, tmp_path / f"api-{max_connections}.log"))
        return started[-1], token

    yield start
    for api in started:
        api.stop()


def submit(api: ApiProcess, token: str) -> int | str:
    body = {"external_id": f"post-{uuid.uuid4().hex}", "media_uri": api.media_uri}
    return request(api.base_url + "/v1/items", body, token)


@pytest.mark.parametrize("max_connections, while_slow", [
    (4000, (200, 202)),  # under the bound: answered as usual
    (500, (503, 503)),   # over it: refused at once
], ids=["under-the-bound", "over-the-bound"])
def test_slow_connections_neither_starve_the_api_nor_stay(start_api, max_connections, while_slow):
    api, token = start_api(max_connections)
    assert submit(api, token) == 202  # a running server is warm: the first submit pays for imports
    slow = open_slow_connections(api.port)
    try:
        during = (request(api.base_url + "/healthz"), submit(api, token))
        assert during == while_slow, f"while {SLOW_CONNECTIONS} connections are slow: {during}\n{api.log()}"

        # The server cuts them itself while their clients still hold them...
        cut = closed_by_server(slow, within=READ_TIMEOUT + 30)
        assert cut == SLOW_CONNECTIONS, f"{SLOW_CONNECTIONS - cut} slow connections still open\n{api.log()}"
        # ... and answers as before, without a restart.
        after = (request(api.base_url + "/healthz"), submit(api, token))
        assert after == (200, 202) and api.proc.poll() is None, f"after: {after}\n{api.log()}"
    finally:
        for sock in slow:
            sock.close()
