"""The use cases: submit an item, moderate it, fail it. No Celery in here.

Every state change happens in one short transaction on a locked item row, and
a decision is recorded only if the item is not already terminal, so a task
delivered twice (or retried after a crash) records one decision and one alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from moderation import imaging, lease, media, metrics
from moderation.alerts import decision_alert, deployment_alert
from moderation.errors import BadInput, DeploymentFault, RefusedSubmission
from moderation.policy import decide
from moderation.runtime import Runtime, get_runtime
from moderation.store import models as m
from moderation.store.db import transaction
from moderation.store.repository import audit, lock_item

log = structlog.get_logger("modq.service")


@dataclass(frozen=True)
class Submitted:
    item_id: str
    status: str
    created: bool  # False: the external_id was known; nothing was sent
    dispatched: bool


def submit(media_uri: str, external_id: str | None = None, metadata: dict[str, Any] | None = None,
           media_type: str | None = None, rt: Runtime | None = None) -> Submitted:
    """Record an item as ``queued``, commit, then send its task.

    Raises ``RefusedSubmission`` (nothing stored) for a URI that is malformed,
    outside the media root, not allow-listed, or missing.
    """
    rt = rt or get_runtime()
    if external_id is not None and not 1 <= len(external_id) <= 255:
        raise RefusedSubmission("external_id must be 1-255 characters")
    existing = _by_external_id(rt, external_id)
    if existing:
        return existing
    ref = media.parse(media_uri, rt.settings.media_root, rt.settings.s3_bucket_allowlist)
    kind = media_type or media.media_kind(ref)
    if kind not in ("image", "video"):
        raise RefusedSubmission(f"media type {kind!r} is not supported: submit images (JPEG, PNG, GIF, WebP, BMP, "
                                f"TIFF) or videos (MP4, MOV)")
    try:
        with transaction(rt.settings.database_url) as s:
            item = m.Item(external_id=external_id, media_uri=ref.uri, media_type=kind,
                          item_metadata=metadata or {}, status=m.QUEUED)
            s.add(item)
            s.flush()
            audit(s, item, "submit", None, m.QUEUED, actor="api")
            item_id = item.id
    except IntegrityError:  # a concurrent submit of the same external_id won
        existing = _by_external_id(rt, external_id)
        if existing:
            return existing
        raise
    return Submitted(item_id, m.QUEUED, True, _dispatch(rt, item_id, kind))


def _by_external_id(rt: Runtime, external_id: str | None) -> Submitted | None:
    if external_id is None:
        return None
    with transaction(rt.settings.database_url) as s:
        item = s.scalar(select(m.Item).where(m.Item.external_id == external_id))
        return Submitted(item.id, item.status, False, False) if item else None


def _dispatch(rt: Runtime, item_id: str, kind: str) -> bool:
    try:
        rt.dispatcher.moderate(item_id, kind)
        return True
    except Exception as exc:  # the row is committed; the reaper re-sends queued items
        log.error("dispatch_failed", item_id=item_id, error=str(exc))
        return False


def process_image(item_id: str, rt: Runtime | None = None, owner: str | None = None) -> str:
    """Moderate one image item; return its status afterwards.

    ``BadInput``/``DeploymentFault`` end the item as ``failed`` here;
    ``TransientFault`` propagates so the task retries with backoff. ``owner``
    names this delivery (the task id) in the item's lease: another delivery
    arriving meanwhile gets ``LeaseBusy`` and looks again later.
    """
    rt = rt or get_runtime()
    with lease.held(rt.leases, item_id, owner or m.new_id(), rt.settings.processing_lease_seconds):
        return _process_image(rt, item_id)


def _process_image(rt: Runtime, item_id: str) -> str:
    provider = rt.provider
    uri = _begin(rt, item_id, provider.name)
    if uri is None:
        return _status(rt, item_id)
    try:
        image = _load_image(rt, uri, provider)
        policy = rt.active_policy().for_provider(provider.name)
        analysis = provider.analyze_image(image, policy.min_confidence)
    except BadInput as exc:
        return fail_item(item_id, str(exc), rt=rt)
    except DeploymentFault as exc:
        return fail_item(item_id, str(exc), rt=rt, alert=True)
    decision = decide(analysis.labels, policy)
    return _record(rt, item_id, analysis, decision, image.sha256, policy.min_confidence)


def _start(rt: Runtime, item_id: str, provider: str) -> bool:
    """Move the item to ``processing``; False if there is nothing to do."""
    return _begin(rt, item_id, provider) is not None


def _begin(rt: Runtime, item_id: str, provider: str) -> str | None:
    """``_start`` that also hands back the item's media URI (one transaction, not two); None: nothing to do."""
    with transaction(rt.settings.database_url) as s:
        item = lock_item(s, item_id)
        if item is None:
            log.warning("item_missing", item_id=item_id)
            return None
        if item.status in m.TERMINAL:
            log.info("already_done", item_id=item_id, status=item.status)
            return None
        if item.status != m.PROCESSING:
            audit(s, item, "processing", item.status, m.PROCESSING)
        item.status, item.provider = m.PROCESSING, provider
        item.attempts += 1
        return item.media_uri


def _load_image(rt: Runtime, uri: str, provider) -> imaging.PreparedImage:
    ref = _reparse(rt, uri)
    if ref.scheme == "s3" and provider.reads_s3_directly:
        return imaging.from_s3(ref.bucket, ref.key, ref.version)
    if ref.scheme == "s3":
        from moderation.aws import fetch_s3_object

        data = fetch_s3_object(rt.s3(), ref.bucket, ref.key, ref.version, rt.settings.max_image_bytes)
    else:
        data = media.read_local(ref, rt.settings.max_image_bytes)
    # The offline model decodes the pixels anyway: keep the validating decode instead of a second one.
    return imaging.prepare(data, keep_decoded=getattr(provider, "decodes_pixels", False))


def _reparse(rt: Runtime, uri: str) -> media.MediaRef:
    """Re-check confinement in the worker: the file may have changed since submit."""
    try:
        return media.parse(uri, rt.settings.media_root, rt.settings.s3_bucket_allowlist)
    except RefusedSubmission as exc:
        raise BadInput(str(exc)) from None


def _record(rt: Runtime, item_id: str, analysis, decision, content_key: str, min_confidence: float,
            reasons: list[dict] | None = None, extra=None) -> str:
    """Analysis, decision, outbox alert and status in one transaction.

    ``reasons``: the stored form of ``decision.reasons`` when the caller adds
    to it (video: where each rule fired); ``extra(session, item, analysis_row)``
    writes more evidence (a video's timeline) in the same transaction.
    """
    with transaction(rt.settings.database_url) as s:
        item = lock_item(s, item_id)
        if item.status in m.TERMINAL:  # a duplicate delivery finished first
            return item.status
        row = m.Analysis(provider=analysis.provider, model_version=analysis.model_version, content_key=content_key,
                         min_confidence=min_confidence, labels=analysis.labels_as_dicts(),
                         content_types=analysis.content_types, raw=analysis.raw)
        s.add(row)
        s.flush()
        if extra is not None:
            extra(s, item, row)
        if reasons is None:
            reasons = [dict(vars(r), text=r.text()) for r in decision.reasons]
        now = m.utcnow()
        s.add(m.Decision(item_id=item.id, analysis_id=row.id, verdict=decision.verdict, reasons=reasons,
                         policy_version=decision.policy_version, decided_at=now))
        audit(s, item, "decide", item.status, decision.verdict, verdict=decision.verdict,
              reason="; ".join(r["text"] for r in reasons), policy_version=decision.policy_version)
        item.status, item.verdict, item.decided_at = decision.verdict, decision.verdict, now
        item.analysis_id, item.content_key, item.policy_version = row.id, content_key, decision.policy_version
        alert = None
        if decision.verdict in (m.FLAGGED, m.REJECTED):
            alert = decision_alert(item, decision.verdict, reasons, row.labels, decision.policy_version, now)
            s.add(alert)  # its id is assigned by the commit's flush: no flush of its own
    alert_ids = [alert.id] if alert is not None else []
    metrics.item_decided(decision.verdict, analysis.provider, item.media_type, item.created_at, now)
    log.info("decided", item_id=item_id, verdict=decision.verdict, policy_version=decision.policy_version)
    _send_alerts(rt, alert_ids)
    return decision.verdict


def fail_item(item_id: str, reason: str, rt: Runtime | None = None, alert: bool = False) -> str:
    """End an item as ``failed`` with a reason a person can act on."""
    rt = rt or get_runtime()
    alert_ids = []
    with transaction(rt.settings.database_url) as s:
        item = lock_item(s, item_id)
        if item is None or item.status in m.TERMINAL:
            return item.status if item else "missing"
        audit(s, item, "fail", item.status, m.FAILED, reason=reason)
        item.status, item.failure_reason, item.decided_at = m.FAILED, reason, m.utcnow()
        if alert:
            row = deployment_alert(item, reason)
            earlier = s.scalar(select(func.count()).select_from(m.Alert)
                               .where(m.Alert.item_id == item.id, m.Alert.kind == row.kind))
            if earlier:  # it failed before and was re-driven: a new event needs a new dedup id
                row.dedup_id = f"{row.dedup_id}:{earlier + 1}"
            s.add(row)
            s.flush()
            alert_ids.append(row.id)
    metrics.item_decided(m.FAILED, item.provider, item.media_type)
    log.warning("failed", item_id=item_id, reason=reason)
    _send_alerts(rt, alert_ids)
    return m.FAILED


def _send_alerts(rt: Runtime, alert_ids: list[int]) -> None:
    if not alert_ids:
        return
    try:
        rt.dispatcher.publish_alerts(alert_ids)
    except Exception as exc:  # the rows are in the outbox; the periodic flush delivers them
        log.error("alert_dispatch_failed", alert_ids=alert_ids, error=str(exc))


def _status(rt: Runtime, item_id: str) -> str:
    with transaction(rt.settings.database_url) as s:
        item = s.get(m.Item, item_id)
        return item.status if item else "missing"
