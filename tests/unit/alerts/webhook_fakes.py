"""What the webhook unit tests share: a recording transport, a fixed resolver, a settable clock, and an
alert of the default tenant in the outbox."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from moderation.alerts.delivery import Policy
from moderation.alerts.models import Alert
from moderation.alerts.ssrf import Target
from moderation.infra.db import transaction

PUBLIC = "93.184.216.34"
_SEQ = itertools.count(1)
START = datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)  # before the tests run
POLICY = Policy(timeout=5, base=5, cap=3600, give_up=24 * 3600, disable_after=24 * 3600)


@dataclass
class Sent:
    target: Target
    address: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeTransport:
    """Answers with ``statuses`` in turn (an exception instance is raised), then 200."""

    statuses: list = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)

    def __call__(self, target, address, headers, body, timeout) -> int:
        self.sent.append(Sent(target, address, dict(headers), body))
        answer = self.statuses.pop(0) if self.statuses else 200
        if isinstance(answer, BaseException):
            raise answer
        return answer


def resolver(*addresses: str):
    return lambda host, port: list(addresses or (PUBLIC,))


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def outbox_alert(url: str, kind: str = "decision", tenant_id: int | None = 1, published: bool = False,
                 verdict: str = "rejected") -> int:
    with transaction(url) as s:
        alert = Alert(item_id=None, tenant_id=tenant_id, kind=kind, dedup_id=f"t:{kind}:{verdict}:{next(_SEQ)}",
                      subject="modq test", message={"item_id": "i-1", "verdict": verdict, "kind": kind},
                      attributes={}, published_at=START if published else None)
        s.add(alert)
        s.flush()
        return alert.id
