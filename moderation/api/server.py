"""Serve the API with uvicorn so that slow clients cannot starve it.

Measured on uvicorn 0.54: 1,100 connections that sent nothing (or half a
request head) made every other request time out until they went away. uvicorn
waits for a request head for ever, and once the process's open-file limit
(1024 by default) is used up, new connections wait unaccepted in the kernel.
Three things together keep the API answering (README "What modq guarantees"):

- a read deadline: a connection gets ``MODQ_API_READ_TIMEOUT_SECONDS`` to send
  a whole request, from when it opens or got its previous response, or it is
  closed (``SlowClientGuard``);
- a bound: past ``MODQ_API_MAX_CONNECTIONS`` open connections in a process,
  requests are answered 503 at once (uvicorn's ``limit_concurrency``);
- file descriptors to back that bound: the soft open-file limit is raised to
  the hard one at start, as Go's runtime does, and start-up is refused if the
  hard limit cannot hold the bound.
"""

from __future__ import annotations

import asyncio
import resource

import structlog
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from config.settings import Settings, get_settings
from moderation.domain.errors import ConfigError

log = structlog.get_logger("modq.api.server")

# Descriptors a process needs besides client connections: the listening socket,
# database and Redis connections, log and media files.
RESERVED_FILES = 128
# Without a finite hard limit (RLIM_INFINITY), raise the soft limit this far.
UNBOUNDED_TARGET = 65536


class SlowClientGuard(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for receiving each request.

    uvicorn has no such timeout (its issue #157 has asked for a request-start
    timeout since 2018): ``timeout_keep_alive`` is armed only after a response
    and any byte received cancels it, so a connection that never sends one, or
    sends part of a head and stops, is held for ever. ASGI middleware cannot
    help, as the app is called only once the head is complete. Hence this
    subclass: the deadline is armed when a connection opens and after each
    response, and disarmed once a whole request (head and body) is in; when it
    passes, the connection is closed. It relies on uvicorn's ``cycle`` and
    ``on_response_complete``; tests/unit/api/test_server.py pins what it needs.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Read per process from the environment: with --workers, uvicorn starts
        # fresh processes that import this class, not an instance configured here.
        self.read_timeout = get_settings().api_read_timeout_seconds
        self._read_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_read_deadline()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._whole_request_in():
            self._disarm_read_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # A pipelined request may already be in hand: only wait if it is not.
        if not self.transport.is_closing() and not self._whole_request_in():
            self._arm_read_deadline()

    def handle_websocket_upgrade(self, event) -> None:
        self._disarm_read_deadline()
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_read_deadline()
        super().connection_lost(exc)

    def _whole_request_in(self) -> bool:
        """A request is being answered and all of its body has arrived."""
        cycle = self.cycle
        return cycle is not None and not cycle.response_complete and not cycle.more_body

    def _arm_read_deadline(self) -> None:
        self._disarm_read_deadline()
        self._read_deadline = self.loop.call_later(self.read_timeout, self._read_deadline_passed)

    def _disarm_read_deadline(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _read_deadline_passed(self) -> None:
        self._read_deadline = None
        if self.transport.is_closing():
            return
        waiting_for = "body" if self.cycle is not None and not self.cycle.response_complete else "request"
        log.info("api_slow_client_closed", client=_address(self.client), waiting_for=waiting_for,
                 read_timeout_seconds=self.read_timeout)
        self.transport.close()  # h11 cannot answer a request it has not parsed: just close


def _address(client: tuple[str, int] | None) -> str | None:
    return f"{client[0]}:{client[1]}" if client else None


def open_file_target(max_connections: int, soft: int, hard: int) -> int:
    """The soft open-file limit to run with, or a ConfigError if the hard one is too low.

    The hard limit, not just the bound: connections past the bound still take a
    descriptor until their 503 is sent or their deadline passes.
    """
    needed = max_connections + RESERVED_FILES
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise ConfigError(
            f"MODQ_API_MAX_CONNECTIONS={max_connections} needs {needed} open files, but this process may open "
            f"at most {hard} (hard RLIMIT_NOFILE): lower MODQ_API_MAX_CONNECTIONS or raise the limit "
            "(ulimit -Hn; compose: ulimits.nofile)")
    target = hard if hard != resource.RLIM_INFINITY else max(UNBOUNDED_TARGET, needed)
    return soft if soft == resource.RLIM_INFINITY or soft >= target else target


def raise_open_file_limit(max_connections: int) -> int:
    """Raise this process's soft open-file limit (children inherit it); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = open_file_target(max_connections, soft, hard)
    if target != soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        log.info("api_open_file_limit_raised", soft_before=soft, soft=target, hard=hard)
    return target


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    raise_open_file_limit(settings.api_max_connections)
    uvicorn.run("moderation.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_config=None, proxy_headers=True, forwarded_allow_ips=settings.api_forwarded_allow_ips,
                server_header=False, http=SlowClientGuard, limit_concurrency=settings.api_max_connections)
