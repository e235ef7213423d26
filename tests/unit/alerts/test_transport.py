"""The webhook transport against a server on loopback: it connects to the address it is given (no DNS look-up
of the URL's host), sends that host as Host, follows no redirect, and bounds the whole attempt."""

from __future__ import annotations

import socket
import threading

import pytest

from moderation.alerts.ssrf import Target
from moderation.alerts.transport import http_post


class OneShotServer:
    """Accepts connections on 127.0.0.1 and answers each with ``reply(request bytes, connection)``."""

    def __init__(self, reply):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.requests: list[bytes] = []
        self.stop = threading.Event()
        self._reply = reply
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(4096)
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length")))
                while len(body) < length:
                    body += conn.recv(4096)
                self.requests.append(head + b"\r\n\r\n" + body)
                try:
                    self._reply(conn, self.stop)
                except OSError:
                    pass

    def close(self):
        self.stop.set()
        self.sock.close()


@pytest.fixture
def serve():
    servers = []

    def start(reply):
        servers.append(OneShotServer(reply))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_it_connects_to_the_checked_address_and_sends_the_urls_host(serve):
    server = serve(lambda conn, _stop: conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"))
    target = Target("http", "hooks.invalid", server.port, "/modq?x=1")  # .invalid never resolves
    status = http_post(target, "127.0.0.1", {"webhook-id": "msg_1"}, b'{"a":1}', 5)
    assert status == 204
    (request,) = server.requests
    assert request.startswith(b"POST /modq?x=1 HTTP/1.1\r\n")
    assert f"Host: hooks.invalid:{server.port}\r\n".encode() in request and request.endswith(b'{"a":1}')


def test_a_redirect_is_returned_not_followed(serve):
    server = serve(lambda conn, _stop: conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/\r\n"
                                                    b"Content-Length: 0\r\n\r\n"))
    assert http_post(Target("http", "h.invalid", server.port, "/"), "127.0.0.1", {}, b"{}", 5) == 302
    assert len(server.requests) == 1


def test_an_answer_dripping_past_the_deadline_ends_the_attempt(serve):
    def drip(conn, stop):
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while not stop.wait(0.05):
            conn.sendall(b"X")  # a header line that never ends: each read gets a byte within the socket timeout

    server = serve(drip)
    with pytest.raises(TimeoutError, match=r"^no whole answer within 0.5 s$"):
        http_post(Target("http", "h.invalid", server.port, "/"), "127.0.0.1", {}, b"{}", 0.5)
