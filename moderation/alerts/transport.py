"""One HTTP POST of a webhook to an address already checked (``ssrf.pin``): no DNS lookup of its own, Host
and TLS SNI (and certificate check) for the URL's host name, no redirect followed (a 3xx is a failure), the
whole attempt bounded by MODQ_WEBHOOK_TIMEOUT_SECONDS."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from typing import Protocol

from moderation.alerts.ssrf import Target

RESPONSE_READ = 64 * 1024  # bytes of a response read before the connection is closed (nobody reads it)


class Transport(Protocol):
    def __call__(self, target: Target, address: str, headers: dict[str, str], body: bytes,
                 timeout: float) -> int:
        """POST ``body`` to ``target`` at ``address``; the status code. Raises ``OSError`` or
        ``http.client.HTTPException`` when no answer came."""
        ...


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext):
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


_TLS = ssl.create_default_context()


def http_post(target: Target, address: str, headers: dict[str, str], body: bytes, timeout: float) -> int:
    """``timeout`` bounds the whole attempt, not each read: an endpoint that drips its answer a byte at a time
    has its connection shut at the deadline (``OSError``)."""
    if target.scheme == "https":
        conn: http.client.HTTPConnection = _PinnedHTTPS(target.host, target.port, address, timeout, _TLS)
    else:
        conn = _PinnedHTTP(target.host, target.port, address, timeout)
    expired = threading.Event()
    deadline = threading.Timer(timeout, _shut, (conn, expired))
    deadline.start()
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(RESPONSE_READ)
    except (OSError, http.client.HTTPException):
        if not expired.is_set():
            raise
    finally:
        deadline.cancel()
        conn.close()
    if expired.is_set():  # a shut connection may also read as an answer cut short: it is none
        raise TimeoutError(f"no whole answer within {timeout:g} s")
    return response.status


def _shut(conn: http.client.HTTPConnection, expired: threading.Event) -> None:
    expired.set()
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)  # wakes the read blocked on it
        except OSError:
            pass
