"""Every request a Rekognition client sends passes the circuit breaker and the global rate limiter.

Hooked into the client's botocore events rather than wrapped around provider
methods, so it covers every operation (images and video alike) and every
attempt that botocore's standard retry mode makes on its own: each attempt
counts against the account's TPS quota, so each takes a token.

- ``before-send`` (each HTTP attempt): ``CircuitOpen`` while the circuit is
  open, then wait for a token (``Throttled`` if none comes in time). Either
  error stops botocore's retry loop and reaches the task as a deferral.
- ``after-call`` / ``after-call-error`` (once per call, after botocore's own
  retries): the breaker counts a final 5xx or no answer at all as a failure
  and any other answer as a success. Throttling counts as neither (that is the
  limiter's business). Counting calls, not attempts, keeps one poison image
  (3 attempts, each retried by botocore) from looking like an outage.

``guard_rekognition_clients`` installs one guard, on the fleet's shared Redis
(``moderation.infra.coordination``), on every Rekognition client the process builds.
"""

from __future__ import annotations

import threading
from typing import Any

from config.settings import Settings
from config.validators import parse_rates
from moderation.domain.errors import ModqError
from moderation.infra import aws, coordination
from moderation.infra.circuit import CircuitBreaker
from moderation.infra.ratelimit import RateLimiter

THROTTLING = {"ThrottlingException", "ProvisionedThroughputExceededException", "ThrottledException",
              "RequestLimitExceeded", "TooManyRequestsException"}


class ClientGuard:
    def __init__(self, limiter: RateLimiter | None = None, breaker: CircuitBreaker | None = None):
        self.limiter, self.breaker = limiter, breaker
        self._local = threading.local()  # was this thread's request in flight the half-open probe?

    def install(self, client: Any) -> Any:
        """Attach to ``client`` (idempotent: installing again replaces the handlers)."""
        service = client.meta.service_model.service_id.hyphenize()
        handlers = ((f"before-send.{service}", self._before_send), (f"after-call.{service}", self._after_call),
                    (f"after-call-error.{service}", self._after_call_error))
        for event, handler in handlers:
            client.meta.events.unregister(event, unique_id=f"modq-guard:{event}")
            client.meta.events.register(event, handler, unique_id=f"modq-guard:{event}")
        return client

    def _before_send(self, event_name: str = "", **_kwargs: Any) -> None:
        # The half-open probe is a whole call: botocore's retries of it go through too, and
        # its final outcome decides (see _record). Any other attempt asks the breaker.
        if self.breaker is not None and not getattr(self._local, "probe", False):
            self._local.probe = self.breaker.allow()
        if self.limiter is not None:
            self.limiter.acquire(event_name.rsplit(".", 1)[-1])
        return None  # None: botocore sends the request itself

    def _after_call(self, http_response: Any = None, parsed: dict | None = None, **_kwargs: Any) -> None:
        self._record(answered(getattr(http_response, "status_code", 200), parsed))

    def _after_call_error(self, exception: Exception | None = None, **_kwargs: Any) -> None:
        # Ours (CircuitOpen, Throttled from _before_send): not the service's answer. Anything
        # else here is botocore giving up without an answer: refused, reset, timed out.
        self._record(None if isinstance(exception, ModqError) else False)

    def _record(self, ok: bool | None) -> None:
        probe, self._local.probe = getattr(self._local, "probe", False), False
        if self.breaker is not None and ok is not None:
            self.breaker.record(ok, probe)


def answered(status: int, parsed: dict | None) -> bool | None:
    """True: the service answered; False: a 5xx; None: throttled (neither)."""
    code = ((parsed or {}).get("Error") or {}).get("Code", "")
    if code in THROTTLING:
        return None
    return status < 500


def rekognition_guard(settings: Settings) -> ClientGuard:
    client = coordination.redis_client(settings)
    prefix = settings.broker_key_prefix
    limiter = RateLimiter(client, settings.rekognition_tps, settings.rekognition_burst,
                          settings.rate_limit_max_wait_seconds, parse_rates(settings.rekognition_operation_tps),
                          prefix=f"{prefix}modq:ratelimit:rekognition:")
    breaker = CircuitBreaker(client, "rekognition", settings.circuit_failures, settings.circuit_failure_ratio,
                             settings.circuit_window_seconds, settings.circuit_open_seconds,
                             prefix=f"{prefix}modq:circuit:")
    return ClientGuard(limiter, breaker)


def guard_rekognition_clients(settings: Settings) -> None:
    """Every Rekognition client this process builds (images and video) paces itself and stops during outages."""
    if settings.provider != "rekognition" or coordination.redis_url(settings) is None:
        return
    aws.on_new_client("rekognition", "guard", rekognition_guard(settings).install)
