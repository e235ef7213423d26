"""Alerts: outbox rows written with the decision, published to SNS afterwards.

A row is written in the same transaction as the decision it reports, so a
crash can never leave a decision without its alert or an alert without its
decision. Publishing happens later and may repeat; the ``dedup_id`` is stable
so FIFO topics (and subscribers) can drop repeats.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any, Callable, Protocol

import structlog
from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy.exc import OperationalError

from moderation.alerts.models import Alert
from moderation.alerts.queries import lock_pending, pending_alerts, set_delivery
from moderation.infra import aws
from moderation.infra.clock import aware, utcnow
from moderation.infra.db import transaction
from moderation.domain.timeline import fmt_ms

log = structlog.get_logger("modq.alerts")
SUBJECT_MAX = 99  # SNS documents "less than 100 characters"


class AlertPublisher(Protocol):
    def publish(self, alert: Alert) -> str:
        """Deliver one alert; return a message id. Raise on failure."""
        ...


class LogPublisher:
    """Used when no SNS topic is configured: the alert goes to the log."""

    def publish(self, alert: Alert) -> str:
        log.warning("alert", subject=alert.subject, alert=alert.message, attributes=alert.attributes)
        return f"log-{alert.id}"


class SnsPublisher:
    def __init__(self, topic_arn: str, client=None, max_attempts: int = 3):
        self.topic_arn = topic_arn
        self.fifo = topic_arn.endswith(".fifo")
        self._client = client
        self._max_attempts = max_attempts

    @property
    def client(self):
        if self._client is None:
            self._client = aws.client("sns", self._max_attempts)
        return self._client

    def publish(self, alert: Alert) -> str:
        params: dict[str, Any] = {
            "TopicArn": self.topic_arn,
            "Subject": alert.subject,
            "Message": json.dumps(alert.message, sort_keys=True),
            "MessageAttributes": {
                name: {"DataType": "String", "StringValue": str(value)}
                for name, value in alert.attributes.items() if value not in (None, "")
            },
        }
        if self.fifo:
            params["MessageGroupId"] = alert.item_id or "modq"
            params["MessageDeduplicationId"] = alert.dedup_id
        try:
            return self.client.publish(**params)["MessageId"]
        except ClientError as exc:
            raise PublishError(str(exc)) from exc
        except BotoCoreError as exc:  # no answer: missing credentials or region, named in one line; or the network
            raise PublishError(str(aws.botocore_fault(exc, "SNS", self._client))) from exc


class PublishError(Exception):
    pass


# What a delivery retries: the topic refused or was unreachable, or the database went away meanwhile.
RETRYABLE: tuple[type[Exception], ...] = (PublishError, OperationalError)


def decision_alert(item, verdict: str, reasons: list[dict], labels: list[dict], policy_version: str,
                   decided_at: datetime, kind: str = "decision") -> Alert:
    """The outbox row for a flagged or rejected item."""
    top = _top_labels(reasons, labels)
    head = f"{top[0]['name']} ({top[0]['confidence']:.0f}%)" if top else "no label"
    if top and "first_timestamp" in top[0]:  # video: where a reviewer should look first
        head += f" at {top[0]['first_timestamp']}"
    message = {
        "item_id": item.id,
        "external_id": item.external_id,
        "media_uri": item.media_uri,
        "media_type": item.media_type,
        "verdict": verdict,
        "top_labels": top,
        "reasons": [r["text"] for r in reasons],
        "policy_version": policy_version,
        "decided_at": decided_at.isoformat(),
        "kind": kind,
    }
    attributes = {"verdict": verdict, "top_label": top[0]["name"] if top else "", "media_type": item.media_type}
    subject = subject_line(f"modq {verdict} {item.media_type}: {head} [{item.external_id or item.id}]")
    return Alert(item_id=item.id, tenant_id=item.tenant_id, kind=kind, dedup_id=f"{item.id}:{kind}:{verdict}",
                 subject=subject, message=message, attributes=attributes)


#: Operator alert kinds -> the start of their subject line.
OPERATOR_ALERTS = {
    "deployment": "modq deployment fault",  # modq cannot work as deployed: access denied, no credentials
    "worker_lost": "modq worker lost",  # workers kept dying on one item (moderation/items/attempts.py)
}


def deployment_alert(item, reason: str, kind: str = "deployment") -> Alert:
    """An operator alert (``OPERATOR_ALERTS``): someone must act on the deployment, not on the media."""
    message = {"item_id": item.id, "external_id": item.external_id, "media_uri": item.media_uri,
               "kind": kind, "reason": reason}
    return Alert(item_id=item.id, tenant_id=item.tenant_id, kind=kind, dedup_id=f"{item.id}:{kind}",
                 subject=subject_line(f"{OPERATOR_ALERTS[kind]}: {reason}"), message=message,
                 attributes={"verdict": "failed", "top_label": "", "media_type": item.media_type})


def subject_line(text: str) -> str:
    """One line, printable, under SNS's 100-character limit."""
    clean = "".join(ch if ch.isprintable() else " " for ch in text)
    return clean if len(clean) <= SUBJECT_MAX else clean[: SUBJECT_MAX - 1] + "…"


def _top_labels(reasons: list[dict], labels: list[dict], n: int = 3) -> list[dict]:
    """Highest-confidence fired rules; for a video each says when it first fired (``first_ms``)."""
    fired = [r for r in reasons if r.get("action") in ("flag", "reject")]
    source = fired or [{"label": lab["Name"], "confidence": lab["Confidence"]} for lab in labels]
    ranked = sorted(source, key=lambda r: -r["confidence"])[:n]
    top = []
    for r in ranked:
        entry = {"name": r["label"], "confidence": round(r["confidence"], 2)}
        if r.get("first_ms") is not None:
            entry.update(first_timestamp_ms=r["first_ms"], first_timestamp=fmt_ms(r["first_ms"]))
        top.append(entry)
    return top


# --- delivery (the outbox relay) -------------------------------------------


def deliver(alert_id: int, database_url: str, publisher: AlertPublisher, written: Alert | None = None) -> bool:
    """Publish one outbox row unless already published; True if sent now.

    The row stays locked while publishing so two relays never send it twice
    concurrently; a crash after SNS accepted it but before the commit can
    still repeat it, which the stable ``dedup_id`` lets FIFO topics absorb.
    Raises ``PublishError`` (after recording it on the row) if SNS refused.
    A row still held (a review's undo window) or cancelled (an undo) is not sent: False.
    ``written``: the row as this process has just committed it (the deciding
    task): only its lock and state are read, not the whole row.
    """
    with transaction(database_url) as s:
        if written is None:
            alert = s.get(Alert, alert_id, with_for_update=True)
            attempts = alert.attempts if alert is not None and _due(alert, utcnow()) else None
        else:
            alert, attempts = written, lock_pending(s, alert_id)
        if attempts is None:
            return False
        try:
            message_id = publisher.publish(alert)
        except Exception as exc:
            error = str(exc)[:2000]
            log.warning("alert_publish_failed", alert_id=alert_id, attempts=attempts + 1, error=error)
            outcome = {"last_error": error}
        else:
            error, outcome = None, {"published_at": utcnow(), "last_error": None}
            log.info("alert_published", alert_id=alert_id, item_id=alert.item_id, message_id=message_id)
        set_delivery(s, alert_id, attempts=attempts + 1, **outcome)
    if error is not None:
        raise PublishError(f"alert {alert_id}: {error}")
    return True


def _due(alert: Alert, now: datetime) -> bool:
    """Unpublished, not cancelled, not held: a held one goes out when its hold passes (the publish_alert task
    sent with that countdown, or beat's flush), a cancelled one never."""
    hold = aware(alert.hold_until)
    return alert.published_at is None and alert.cancelled_at is None and (hold is None or hold <= now)


class InlineRelay:
    """A worker's deciding task publishes its alerts itself right after the commit (``deliver``): no second
    task on the happy path. The outbox row and beat's flush stay the guarantee. After a failed publish,
    alerts go to the publish_alert task (which retries) for ``pause`` seconds, so an SNS outage does not
    hold every deciding task up."""

    def __init__(self, database_url: str, publisher: AlertPublisher, pause: float,
                 clock: Callable[[], float] = time.monotonic):
        self.database_url, self.publisher, self.pause, self._clock = database_url, publisher, pause, clock
        self._paused_until = 0.0

    def deliver(self, alert_ids: list[int], written: dict[int, Alert]) -> list[int]:
        """Publish each alert now; return those left to the publish_alert task (failed, or while paused)."""
        if self._clock() < self._paused_until:
            return list(alert_ids)
        for n, alert_id in enumerate(alert_ids):
            try:
                deliver(alert_id, self.database_url, self.publisher, written.get(alert_id))
            except Exception as exc:  # SNS or the database: the publish_alert task and the flush take over
                self._paused_until = self._clock() + self.pause
                log.warning("alert_relay_paused", alert_id=alert_id, seconds=self.pause, error=str(exc)[:500])
                return list(alert_ids[n:])
        return []


def flush_outbox(database_url: str, publisher: AlertPublisher, limit: int = 500) -> int:
    """Publish every pending alert; failures stay pending for the next flush."""
    with transaction(database_url) as s:
        ids = [a.id for a in pending_alerts(s, limit)]
    sent = 0
    for alert_id in ids:
        try:
            sent += deliver(alert_id, database_url, publisher)
        except PublishError:
            continue
    return sent

