"""Send the statements of reasons that are due to the EU DSA Transparency Database (issue 18.3; Art. 24(5) DSA):
beat's ``modq.submit_statements`` every MODQ_DSA_TDB_INTERVAL_SECONDS, only when MODQ_DSA_TDB_URL is set.

Each batch (up to MODQ_DSA_TDB_BATCH_SIZE, the API's limit is 100) is claimed and committed first
(``outbox.claim``), then sent. Idempotent by ``puid``: a statement whose earlier attempt may have stored it is
looked up (existing-puid) before it is sent again, and a duplicate-puid answer marks the puids named as sent.
The API stores a batch all or nothing, so after a 422 the invalid statements are rejected with their field
errors and the others are sent again at once. 429: the batch waits Retry-After and the run stops; no answer or
a 5xx: it waits ``backoff`` and the run stops (the next beat tries again). Requests are paced by one token
bucket in Redis for every worker (MODQ_DSA_TDB_REQUESTS_PER_SECOND).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Protocol

import structlog

from moderation.domain.errors import Deferred
from moderation.infra import coordination, metrics
from moderation.infra.clock import utcnow
from moderation.infra.ratelimit import RateLimiter
from moderation.transparency import client as tdb, outbox
from moderation.transparency.outbox import Claimed

log = structlog.get_logger("modq.transparency")
MAX_BATCHES = 50  # per run: a long backlog is worked off over several beats, each run bounded


class Limiter(Protocol):
    def acquire(self, operation: str) -> float: ...


@dataclass
class Summary:
    sent: int = 0  # stored by this run
    already: int = 0  # found stored by an earlier attempt whose answer was lost
    rejected: int = 0  # refused by the database's validation (field errors kept)
    waiting: int = 0  # given back to wait for a retry
    requests: int = 0
    stopped: str | None = None  # why the run ended with statements maybe still due

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def backoff(attempts: int, base: float, cap: float) -> float:
    """Seconds before the ``attempts``-th failed attempt is tried again: base, 2 x base, 4 x base ..., at most cap."""
    return min(cap, base * 2 ** min(max(attempts, 1) - 1, 30))


def claim_seconds(settings) -> float:
    """Longer than one batch can take (its requests at the rate, a POST timing out), plus a beat."""
    return (2 * settings.dsa_tdb_timeout_seconds + settings.dsa_tdb_batch_size / settings.dsa_tdb_requests_per_second
            + settings.dsa_tdb_interval_seconds)


def send_due(rt_or_settings, now: datetime | None = None, client: tdb.TransparencyClient | None = None,
             limiter: Limiter | None = None, max_batches: int = MAX_BATCHES) -> Summary:
    """Send what is due; what happened. Nothing is sent when MODQ_DSA_TDB_URL is unset. ``now``: a fixed clock
    (tests); by default every claim, renewal, wait and ``sent_at`` reads the time as it is then, since a run can
    take minutes."""
    settings = getattr(rt_or_settings, "settings", rt_or_settings)
    if not settings.dsa_tdb_url:
        return Summary(stopped="MODQ_DSA_TDB_URL is not set")
    run = _Run(settings, utcnow if now is None else (lambda: now), client or tdb.TransparencyClient.of(settings),
               limiter or build_limiter(settings))
    for _ in range(max_batches):
        claimed = outbox.claim(settings.database_url, run.clock(), settings.dsa_tdb_batch_size, run.claim_seconds)
        if not claimed:
            break
        run.batch(claimed)
        if run.summary.stopped:
            break
    if run.summary.requests:
        log.info("statements_submitted", **run.summary.as_dict())
    counted(run.summary)
    return run.summary


def counted(summary: Summary) -> None:
    """``modq_dsa_statements_total{outcome}``: what a run did."""
    for outcome in ("sent", "already", "rejected", "waiting"):
        if count := getattr(summary, outcome):
            metrics.DSA_STATEMENTS.labels(outcome).inc(count)


def build_limiter(settings) -> Limiter:
    rate = settings.dsa_tdb_requests_per_second
    if coordination.redis_url(settings) is None:
        return LocalPace(rate)  # one process, no Redis: it paces itself
    return RateLimiter(coordination.redis_client(settings), rate, 1.0, settings.rate_limit_max_wait_seconds,
                       prefix=f"{settings.broker_key_prefix}modq:ratelimit:dsa-tdb:")


class LocalPace:
    """At most ``rate`` requests a second from this process."""

    def __init__(self, rate: float, sleep: Callable[[float], None] = time.sleep):
        self.gap, self.next, self._sleep = 1.0 / rate, 0.0, sleep

    def acquire(self, operation: str) -> float:
        wait = max(0.0, self.next - time.monotonic())
        if wait:
            self._sleep(wait)
        self.next = time.monotonic() + self.gap
        return wait


class _Run:
    def __init__(self, settings, clock: Callable[[], datetime], client: tdb.TransparencyClient, limiter: Limiter):
        self.settings, self.clock, self.client, self.limiter = settings, clock, client, limiter
        self.url, self.claim_seconds = settings.database_url, claim_seconds(settings)
        self.summary = Summary()
        self.claimed_at = self.renewed_at = clock()

    def batch(self, claimed: list[Claimed]) -> None:
        self.claimed_at = self.renewed_at = claimed[0].claimed_at
        to_send = self._look_up(claimed)
        while to_send and not self.summary.stopped:
            to_send = self._post(to_send)

    def _still_ours(self, rows: list[Claimed]) -> list[Claimed]:
        """Before a request: once half the claim has passed, renew it; rows another run took meanwhile (their
        claim ran out: a slow database) are left to it."""
        now = self.clock()
        if now - self.renewed_at < timedelta(seconds=self.claim_seconds / 2):
            return rows
        ours = outbox.renew(self.url, [r.id for r in rows], self.claimed_at, now + timedelta(seconds=self.claim_seconds))
        self.renewed_at = now
        return [r for r in rows if r.id in ours]

    def _look_up(self, claimed: list[Claimed]) -> list[Claimed]:
        """Statements an earlier attempt may have stored: those found are sent; the rest go on to be sent."""
        found: dict[int, str | None] = {}
        for row in list(claimed):
            if not row.uncertain:
                continue
            claimed = self._still_ours(claimed)
            if row not in claimed:
                continue
            answer = self._call(lambda puid=row.puid: self.client.exists(puid))
            if answer is True:
                found[row.id] = None
            elif answer is not False:  # no answer: these wait, the uncertain ones still uncertain
                self._give_back([r for r in claimed if r.id not in found], answer, stored=None)
                break
        outbox.mark_sent(self.url, found, self.clock(), note="stored by an earlier attempt (existing-puid)")
        self.summary.already += len(found)
        return [] if self.summary.stopped else [row for row in claimed if row.id not in found]

    def _post(self, rows: list[Claimed]) -> list[Claimed]:
        """Send ``rows``; those to send again at once (the valid ones of a refused batch)."""
        rows = self._still_ours(rows)
        if not rows:
            return []
        answer = self._call(lambda: self.client.store_batch([row.body for row in rows]))
        if isinstance(answer, tdb.Stored):
            uuids = {row.id: answer.uuids.get(row.puid) for row in rows}
            outbox.mark_sent(self.url, uuids, self.clock())
            self.summary.sent += len(rows)
            return []
        if isinstance(answer, tdb.Invalid) and set(answer.errors) & set(range(len(rows))):
            invalid = {rows[i].id: fields for i, fields in answer.errors.items() if 0 <= i < len(rows)}
            outbox.mark_rejected(self.url, invalid)
            self.summary.rejected += len(invalid)
            log.warning("statements_rejected", puids=[row.puid for row in rows if row.id in invalid][:20],
                        count=len(invalid))
            return [row for row in rows if row.id not in invalid]
        if isinstance(answer, tdb.Duplicates) and set(answer.puids) & {row.puid for row in rows}:
            stored = {row.id: None for row in rows if row.puid in set(answer.puids)}
            outbox.mark_sent(self.url, stored, self.clock(), note="already in the database (duplicate puid)")
            self.summary.already += len(stored)
            return [row for row in rows if row.id not in stored]
        self._give_back(rows, answer, stored=False if not isinstance(answer, tdb.Unknown) else None)
        return []

    def _call(self, request):
        try:
            self.limiter.acquire("api")
        except Deferred as exc:  # the limiter's wait is too long, or Redis is down: nothing was sent
            return tdb.Throttled(getattr(exc, "retry_after", None) or self.settings.dsa_tdb_interval_seconds)
        self.summary.requests += 1
        return request()

    def _give_back(self, rows: list[Claimed], answer: Any, stored: bool | None) -> None:
        """The rows wait (Retry-After, or the backoff of their attempts) and this run stops."""
        s, now = self.settings, self.clock()
        if isinstance(answer, tdb.Throttled):
            until = {row.id: now + timedelta(seconds=answer.retry_after) for row in rows}
            reason, status = f"rate limited: retry after {answer.retry_after:g} s", 429
        else:
            until = {row.id: now + timedelta(seconds=backoff(row.attempts, s.dsa_tdb_interval_seconds,
                                                                    s.dsa_tdb_retry_max_seconds)) for row in rows}
            reason, status = _reason(answer)
        outbox.release(self.url, until, reason, status, stored, self.claimed_at)
        self.summary.waiting += len(rows)
        self.summary.stopped = reason
        level = log.error if isinstance(answer, tdb.Refused) else log.warning
        level("statements_waiting", count=len(rows), reason=reason, maybe_stored=stored is None)


def _reason(answer: Any) -> tuple[str, int | None]:
    if isinstance(answer, tdb.Refused):
        return answer.reason, answer.status
    if isinstance(answer, tdb.Unknown):
        return answer.reason, None
    return f"unexpected answer: {type(answer).__name__}", None  # an Invalid or Duplicates naming none sent
