"""moderation/api/server.py: the read deadline on uvicorn's protocol, the open-file
limit behind MODQ_API_MAX_CONNECTIONS, and their settings.

The deadline tests run a real uvicorn on 127.0.0.1 with ``SlowClientGuard`` and
a 0.5 s deadline. A client socket waits up to CLIENT_WAIT for the server to
close it: plain uvicorn never would, so each "is closed" test fails without the
guard, and each "is answered" test fails if the deadline cuts what it must not.
"""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import subprocess
import sys
from contextlib import closing
from urllib.parse import urlsplit

import pytest

from config.settings import get_settings
from moderation.api.server import RESERVED_FILES, SlowClientGuard, open_file_target
from moderation.domain.errors import ConfigError
from tests.conftest import REPO
from tests.live_server import serve
from tests.settings_cases import assert_refused

READ_TIMEOUT = 0.5
CLIENT_WAIT = 8.0  # far longer than the deadline; the pass/fail boundary, not a speed claim
HEAD = b"GET /fast HTTP/1.1\r\nHost: t\r\n\r\n"


async def app(scope, receive, send):
    """Reads the whole body; /slow then takes three deadlines to answer."""
    body, more = b"", True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body, more = body + message.get("body", b""), message.get("more_body", False)
    if scope["path"] == "/slow":
        await asyncio.sleep(3 * READ_TIMEOUT)
    reply = f"{scope['path']} {len(body)}".encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(reply)).encode())]})
    await send({"type": "http.response.body", "body": reply})


@pytest.fixture
def port(monkeypatch):
    monkeypatch.setenv("MODQ_API_READ_TIMEOUT_SECONDS", str(READ_TIMEOUT))
    get_settings.cache_clear()
    with serve(app, http=SlowClientGuard) as url:
        yield urlsplit(url).port
    get_settings.cache_clear()


def connect(port: int, *sends: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=CLIENT_WAIT)
    for data in sends:
        sock.sendall(data)
    return sock


def read_response(sock: socket.socket, buffer: bytearray) -> bytes:
    """One whole response (our app always sends Content-Length) from ``buffer`` and the socket."""
    while b"\r\n\r\n" not in buffer:
        buffer += _more(sock, buffer)
    head, _, _ = bytes(buffer).partition(b"\r\n\r\n")
    length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))[15:])
    while len(buffer) < len(head) + 4 + length:
        buffer += _more(sock, buffer)
    response = bytes(buffer[: len(head) + 4 + length])
    del buffer[: len(response)]
    return response


def _more(sock: socket.socket, buffer: bytearray) -> bytes:
    chunk = sock.recv(65536)
    assert chunk, f"closed in the middle of a response: {bytes(buffer)!r}"
    return chunk


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sent before closing; socket.timeout if it never closes."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


@pytest.mark.parametrize("opening", [
    b"",
    b"GET /fast HTTP/1.1\r\nHost: t\r\n",
    b"POST /fast HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n12345",
], ids=["nothing", "part-of-the-head", "part-of-the-body"])
def test_a_connection_that_does_not_finish_its_request_is_closed(port, opening):
    with closing(connect(port, opening)) as sock:
        assert read_until_closed(sock) == b""


def test_a_kept_alive_connection_that_starts_a_request_and_stops_is_closed(port):
    # Any byte cancels uvicorn's keep-alive timer: without the deadline this waits for ever.
    with closing(connect(port, HEAD)) as sock:
        first = read_response(sock, bytearray())
        sock.sendall(b"GET /fast HT")
        rest = read_until_closed(sock)
    assert first.startswith(b"HTTP/1.1 200") and first.endswith(b"/fast 0") and rest == b""


def test_a_request_that_takes_the_app_longer_than_the_deadline_is_answered(port):
    # The deadline is for receiving: it is off while the app works, pipelined requests included.
    with closing(connect(port, b"POST /slow HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc",
                         HEAD.replace(b"/fast", b"/slow"))) as sock:
        buffer = bytearray()
        answers = [read_response(sock, buffer), read_response(sock, buffer)]
    assert [a.startswith(b"HTTP/1.1 200") for a in answers] == [True, True]
    assert [a.rsplit(b"\r\n", 1)[-1] for a in answers] == [b"/slow 3", b"/slow 0"]


def test_open_file_limit_is_raised_to_the_hard_one():
    assert open_file_target(1000, soft=1024, hard=524288) == 524288
    assert open_file_target(1000, soft=600000, hard=1048576) == 1048576
    assert open_file_target(1000, soft=resource.RLIM_INFINITY, hard=resource.RLIM_INFINITY) == resource.RLIM_INFINITY
    assert open_file_target(1000, soft=1024, hard=resource.RLIM_INFINITY) == 65536


def test_a_hard_limit_too_low_for_the_bound_is_refused_naming_the_setting():
    with pytest.raises(ConfigError, match=f"MODQ_API_MAX_CONNECTIONS=1000 needs {1000 + RESERVED_FILES} open files"):
        open_file_target(1000, soft=1024, hard=1024)


def test_modq_api_refuses_to_start_when_the_hard_limit_cannot_hold_the_bound(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODQ_")}
    env.update({"MODQ_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "MODQ_API_MAX_CONNECTIONS": "1000"})

    def low_hard_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (512, 512))

    result = subprocess.run([sys.executable, "-c", "from moderation.cli.main import main; main()", "api", "--port", "1"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=60, preexec_fn=low_hard_limit)
    assert result.returncode == 2
    assert "MODQ_API_MAX_CONNECTIONS=1000 needs 1128 open files" in result.stderr


@pytest.mark.parametrize("env, message", [
    ({"MODQ_API_READ_TIMEOUT_SECONDS": "0"}, "MODQ_API_READ_TIMEOUT_SECONDS: Input should be greater than 0"),
    ({"MODQ_API_READ_TIMEOUT_SECONDS": "301"}, "MODQ_API_READ_TIMEOUT_SECONDS: Input should be less than or equal"),
    ({"MODQ_API_MAX_CONNECTIONS": "0"}, "MODQ_API_MAX_CONNECTIONS: Input should be greater than or equal to 1"),
    ({"MODQ_API_MAX_CONNECTIONS": "many"}, "MODQ_API_MAX_CONNECTIONS: Input should be a valid integer"),
])
def test_bad_slow_client_settings_are_refused_naming_the_variable(monkeypatch, env, message):
    assert_refused(monkeypatch, env, message)
