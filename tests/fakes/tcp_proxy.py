"""A TCP forwarder that a test can cut and restore: an outage for one process only.

Other engineers' tests share the PostgreSQL server and moto, so a test cannot
stop them. Instead the worker under test reaches the service through this
proxy; ``down()`` drops every open connection and answers new ones by closing
them at once (the client sees "connection reset/closed"), ``up()`` forwards
again. The service itself never notices.
"""

from __future__ import annotations

import socket
import struct
import threading


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self._listener = socket.create_server((host, 0))
        self.host, self.port = host, self._listener.getsockname()[1]
        self._up = threading.Event()
        self._up.set()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self.refused = 0  # connections turned away while down
        self._closed = False
        threading.Thread(target=self._accept_loop, daemon=True, name=f"tcp-proxy-{self.port}").start()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def down(self) -> None:
        """Cut every connection and refuse new ones until ``up()``."""
        self._up.clear()
        with self._lock:
            conns, self._open = list(self._open), set()
        for conn in conns:
            _reset(conn)

    def up(self) -> None:
        self._up.set()

    def close(self) -> None:
        self._closed = True
        self.down()
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._up.is_set():
                self.refused += 1
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with self._lock:
                    self._open.discard(sock)
                _reset(sock)


def _reset(sock: socket.socket) -> None:
    """Close with RST (linger 0): the peer fails at once instead of waiting on a half-open socket."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
