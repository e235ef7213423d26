"""The attempt budget (MODQ_MAX_ATTEMPTS), kept in the database: ``items.attempts`` is authoritative.

Celery's retry count cannot enforce it. A message whose pool process is killed
(the OOM killer, a crashing decoder) goes back to the queue unchanged, with the
same ``retries``, as often as it kills a worker: a 10000x10000 PNG was
redelivered 77 times with ``MODQ_MAX_ATTEMPTS=5``. So a delivery is charged an
attempt in the transaction that moves the item to ``processing`` (``charge``),
before any work that could kill it, and ``settle`` decides what the charge
means once the delivery ends:

- a decision, or a failure for a reason: the attempt was used;
- a deferral (throttling, an open circuit, a busy lease or job slot, the
  database down): refunded, so a deferral never fails an item (README
  guarantee 5);
- a transient fault or any other error: the attempt was used and Celery
  retries, unless that was the last one: then the item fails at once, with
  the fault as its reason ("gave up after 5 attempts: ...");
- no end at all (the worker died): the charge stays. A delivery that finds
  every attempt used (``Exhausted``) knows the earlier ones died before they
  could end, and fails the item with ``worker_died`` and an operator alert
  (kind ``worker_lost``) instead of trying again.

Errors raised before the charge (a busy lease, Redis down) are charged when
they end the delivery, so Celery's retry count and ``items.attempts`` agree.
``modq items retry`` starts the count again (``moderation.ops.redrive``).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Callable

import structlog
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from moderation.domain.errors import Deferred, ModqError, TransientFault
from moderation.items import models as m
from moderation.infra.db import transaction
from moderation.items.queries import lock_item

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.attempts")

#: Errors that re-send a task without using an attempt: not the item's fault (see ``errors.Deferred``).
DEFERRALS: tuple[type[BaseException], ...] = (Deferred, OperationalError)
#: The kind of the operator alert raised when workers keep dying on an item.
WORKER_LOST = "worker_lost"

# Item id -> its attempt count after this delivery's charge. Set by ``settle`` for one delivery
# (one per thread or greenlet), so a refund is made only by the delivery that was charged.
_charged: ContextVar[dict[str, int] | None] = ContextVar("modq_charged_attempts", default=None)


class Exhausted(ModqError):
    """A delivery found every attempt used: the earlier deliveries died before they could end."""


def worker_died(attempts: int) -> str:
    return (f"gave up after {attempts} attempts; the worker died while processing it "
            f"(killed, possibly out of memory)")


def gave_up(attempts: int, reason: str) -> str:
    return f"gave up after {attempts} attempts: {reason}"


def charge(item: m.Item, max_attempts: int) -> None:
    """Count this delivery as an attempt on ``item`` (row locked by the caller), or raise ``Exhausted``."""
    item.attempts = charged(item.id, item.attempts, max_attempts)


def charged(item_id: str, used: int, max_attempts: int) -> int:
    """``charge`` for a caller that holds the locked row's columns: the count to store, or ``Exhausted``."""
    if used >= max_attempts:
        raise Exhausted(worker_died(used))
    charges = _charged.get()
    if charges is not None:
        charges[item_id] = used + 1
    return used + 1


def settle(rt: Runtime, item_id: str, work: Callable[[], str], fail: Callable[..., str],
           refund_when_done: bool = False) -> str:
    """Run one delivery's ``work`` on ``item_id`` and settle its attempt (see the module doc).

    ``fail(item_id, reason, rt=..., alert=..., alert_kind=...)`` ends the item
    (``outcomes.fail_item``, or ``video.fail`` which also ends its job).
    ``refund_when_done``: a delivery that ends without an error gives its
    attempt back too (a video poll: only a poll that fails or dies uses one).
    Returns what ``work`` returns, or the item's status if it was failed here.
    """
    outer = _charged.get()  # a poll settled inside a video start's delivery
    charged: dict[str, int] = {}
    token = _charged.set(charged)
    try:
        status = work()
        if refund_when_done and item_id in charged:
            _refund(rt, item_id)
        return status
    except Exhausted as exc:
        log.error("attempts_exhausted", item_id=item_id, reason=str(exc))
        return fail(item_id, str(exc), rt=rt, alert=True, alert_kind=WORKER_LOST)
    except DEFERRALS:
        if item_id in charged:
            _refund(rt, item_id)
        raise
    except Exception as exc:
        spent = charged.get(item_id) or _charge_late(rt, item_id)
        if isinstance(exc, TransientFault) and spent is not None and spent >= rt.settings.max_attempts:
            return fail(item_id, gave_up(spent, str(exc)), rt=rt)
        if outer is not None and spent is not None:
            outer[item_id] = spent  # settled here: the enclosing delivery must not charge it again
        raise  # Celery retries a TransientFault; anything else ends in the task's on_failure
    finally:
        _charged.reset(token)


def used(rt: Runtime, item_id: str) -> int:
    """The attempts ``item_id`` has used (0 if there is no such item)."""
    with transaction(rt.settings.database_url) as s:
        item = s.get(m.Item, item_id)
        return item.attempts if item is not None else 0


def _refund(rt: Runtime, item_id: str) -> None:
    """Give back this delivery's attempt. Best effort: the database may be why it deferred,
    and then the charge stays (at most one per delivery that straddles the outage)."""
    try:
        with transaction(rt.settings.database_url) as s:
            item = lock_item(s, item_id)
            if item is not None and item.attempts > 0:
                item.attempts -= 1
    except SQLAlchemyError as exc:
        log.warning("attempt_refund_failed", item_id=item_id, error=type(exc).__name__)


def _charge_late(rt: Runtime, item_id: str) -> int | None:
    """Charge a delivery that failed before its charge; its new count, or None if it was not charged."""
    try:
        with transaction(rt.settings.database_url) as s:
            item = lock_item(s, item_id)
            if item is None or item.status in m.TERMINAL:
                return None
            item.attempts += 1
            return item.attempts
    except SQLAlchemyError as exc:
        log.warning("attempt_charge_failed", item_id=item_id, error=type(exc).__name__)
        return None
