"""Serve an ASGI app with uvicorn on 127.0.0.1 and an ephemeral port, in a thread."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import uvicorn


@contextmanager
def serve(app, **config) -> Iterator[str]:
    """``config``: more uvicorn.Config options (e.g. ``http=`` a protocol class)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    # Without it, keep-alive requests wait ~40 ms each (Nagle vs delayed ACK):
    # uvicorn sets it on sockets it binds itself, not on one handed to it.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, **{"log_level": "warning", "lifespan": "off", **config}))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
