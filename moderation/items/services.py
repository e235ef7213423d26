"""The use cases: submit an item, moderate an image. No Celery in here.

Every state change happens in one short transaction on a locked item row;
how a moderation ends (decision or failure) is ``outcomes``'. Before paying
for a provider call, ``pay_once`` looks for a bank entry or a reusable analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy.exc import IntegrityError

from moderation.items import animation, attempts, outcomes, pay_once
from moderation.items.banks import services as banks
from moderation.infra.media import frames, imaging, local, s3_peek, uris as media
from moderation.infra import lease
from moderation.infra.aws import fetch_s3_object
from moderation.providers import usage
from moderation.domain.errors import BadInput, DeploymentFault, RefusedSubmission
from moderation.domain.policy import Decision, decide
from moderation.items import models as m
from moderation.infra.schema import new_id
from moderation.infra.db import core_transaction, transaction
from moderation.items.queries import add_audit, lock_state, lock_statement, set_item
# Many at once (submit_many) and what submit accepts: ``submission``; re-exported for Python callers.
from moderation.items.admission import accept, check_external_id, check_metadata, check_subject_id
from moderation.items.submission import (DEFAULT_ORIGIN, Entry, Origin, Submitted, insert_new,  # noqa: F401
                                         known_item, new_row, submit_many)
from moderation.providers.models import BANKED, REUSED

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.service")
# The item, locked, whether the bank is in use, and its tenant (whose policy decides it: no query of its own).
_START = lock_statement(banks.in_use().label("bank_in_use"), m.Item.__table__.c.tenant_id)


def submit(media_uri: str, external_id: str | None = None, metadata: dict[str, Any] | None = None,
           media_type: str | None = None, *, rt: Runtime, subject_id: str | None = None,
           origin: Origin = DEFAULT_ORIGIN) -> Submitted:
    """Record an item as ``queued`` for ``origin``'s tenant, commit, then send its task.

    Raises ``RefusedSubmission`` (nothing stored) for a URI that is malformed,
    outside the media root, not allow-listed, or missing.
    """
    check_external_id(external_id)
    check_metadata(metadata)
    check_subject_id(subject_id)
    try:
        uri, kind = accept(media_uri, media_type, rt)
    except (RefusedSubmission, ValueError, OSError):
        existing = _by_external_id(rt, external_id, origin)  # a known external_id answers whatever its URI
        if existing:
            return existing
        raise
    row = new_row(uri, kind, external_id, metadata, tenant_id=origin.tenant_id, subject_id=subject_id)
    try:
        with core_transaction(rt.settings.database_url) as s:
            existing = insert_new(s, row, origin.actor)  # the row and its audit event, unless the id is known
    except IntegrityError:  # a concurrent submit of the same external_id won (SQLite; PostgreSQL skips it)
        existing = _by_external_id(rt, external_id, origin)
        if existing is None:
            raise
    if existing:
        return existing
    return Submitted(row["id"], m.QUEUED, True, _dispatch(rt, row["id"], kind))


def _by_external_id(rt: Runtime, external_id: str | None, origin: Origin) -> Submitted | None:
    with transaction(rt.settings.database_url) as s:
        return known_item(s, external_id, origin.tenant_id)


def _dispatch(rt: Runtime, item_id: str, kind: str) -> bool:
    try:
        rt.dispatcher.moderate(item_id, kind)
        return True
    except Exception as exc:  # the row is committed; the reaper re-sends queued items
        log.error("dispatch_failed", item_id=item_id, error=str(exc))
        return False


def process_image(item_id: str, rt: Runtime, owner: str | None = None) -> str:
    """Moderate one image item; return its status afterwards.

    ``BadInput``/``DeploymentFault`` end the item as ``failed`` here;
    ``TransientFault`` propagates so the task retries with backoff, unless
    the item has used its attempts (then it fails here, ``attempts``). ``owner``
    names this delivery (the task id) in the item's lease: another delivery
    arriving meanwhile gets ``LeaseBusy`` and looks again later.
    """

    def leased() -> str:
        with lease.held(rt.leases, item_id, owner or new_id(), rt.settings.processing_lease_seconds):
            return _process_image(rt, item_id)

    # MODQ_MAX_ATTEMPTS is enforced from items.attempts, across worker deaths too (``attempts``).
    return attempts.settle(rt, item_id, leased, outcomes.fail_item)


def _process_image(rt: Runtime, item_id: str) -> str:
    provider = rt.provider
    started = start(rt, item_id, provider.name)
    if started is None:
        return outcomes.status(rt, item_id)
    with usage.recording(rt.settings.database_url, item_id, "image"):  # every provider call is accounted
        try:
            image = _load_image(rt, started.media_uri, provider)
            policy = rt.active_policy(started.tenant_id).for_provider(provider.name)
            known = _known(rt, image, provider, policy.min_confidence, started.tenant_id, started.bank_in_use)
            if known.bank is not None:
                return _record_banked(rt, item_id, known.bank, image.sha256, policy)
            if isinstance(image, frames.Sequence):  # every distinct frame, each paid for once (``animation``)
                return animation.moderate(rt, item_id, image, policy, tenant_id=started.tenant_id)
            if known.reuse is not None:
                return _record_reused(rt, item_id, known.reuse, image.sha256, policy)
            analysis = provider.analyze_image(image, policy.min_confidence)
        except BadInput as exc:
            return outcomes.fail_item(item_id, str(exc), rt=rt)
        except DeploymentFault as exc:
            return outcomes.fail_item(item_id, str(exc), rt=rt, alert=True)
        decision = decide(analysis.labels, policy)
        return outcomes.record(rt, item_id, analysis, decision, image.sha256, policy.min_confidence)


def _known(rt: Runtime, image: imaging.PreparedImage | frames.Sequence, provider,
           min_confidence: float, tenant_id: int, bank_in_use: bool = True) -> pay_once.Known:
    """A bank entry or a reusable analysis for this content (``pay_once``); the PDQ hash only when asked for.
    A multi-frame file is looked up in the bank only: its frames are reused one by one (``animation``).
    Nothing is looked up when nothing could match: no active bank entry when the item started, and no reuse
    asked for (MODQ_DEDUPE off, or a multi-frame file)."""
    s = rt.settings
    sequence = isinstance(image, frames.Sequence)
    if not bank_in_use and (sequence or not s.dedupe):
        return pay_once.Known()
    if sequence:
        return pay_once.lookup(s.database_url, image.sha256, provider, min_confidence, dedupe=False,
                               tenant_id=tenant_id)
    pdq = None
    if bank_in_use and s.bank_pdq_distance and image.s3 is None:
        pdq = banks.pdq_hex(image.pil())
    return pay_once.lookup(s.database_url, image.sha256, provider, min_confidence, s.dedupe, pdq, s.bank_pdq_distance,
                           bank=bank_in_use, tenant_id=tenant_id)


def _record_banked(rt: Runtime, item_id: str, match: banks.Match, content_key: str, policy) -> str:
    usage.note_call(rt.provider.name, "DetectModerationLabels", BANKED)
    decision = Decision(match.verdict, [], policy.version)
    return outcomes.record(rt, item_id, None, decision, content_key, policy.min_confidence, reasons=[match.reason()])


def _record_reused(rt: Runtime, item_id: str, reuse: pay_once.Reusable, content_key: str, policy) -> str:
    usage.note_call(rt.provider.name, "DetectModerationLabels", REUSED)
    decision = decide(reuse.analysis.labels, policy)
    # Only the same tenant's item is named: the analysis may have been made for another tenant's (``pay_once``).
    source = f"item {reuse.first_item_id}" if reuse.first_item_id else "an earlier item"
    reasons = [dict(vars(r), text=r.text()) for r in decision.reasons]
    reasons.append({"kind": "reused", "analysis_id": reuse.analysis_id, "item_id": reuse.first_item_id,
                    "text": f"analysis #{reuse.analysis_id} of {source} reused (same content, no provider call)"})
    return outcomes.record(rt, item_id, reuse.analysis, decision, content_key, policy.min_confidence,
                           reasons=reasons, reused=reuse.analysis_id)


@dataclass(frozen=True)
class Started:
    media_uri: str
    bank_in_use: bool  # the hash bank had an active entry when the item started (``banks.in_use``)
    tenant_id: int  # whose policy decides it (``Runtime.active_policy``)


def begin(rt: Runtime, item_id: str, provider: str) -> str | None:
    """``start``, for callers that need only the media URI (videos)."""
    started = start(rt, item_id, provider)
    return started.media_uri if started else None


def start(rt: Runtime, item_id: str, provider: str) -> Started | None:
    """Move the item to ``processing``, charging an attempt (``attempts.charged``), and hand back its media URI,
    its tenant and whether the bank is in use (one transaction, a locking read and plain writes); None if there is
    nothing to do (missing, or already ended)."""
    with transaction(rt.settings.database_url) as s:
        item = lock_state(s, _START, item_id)
        if item is None:
            log.warning("item_missing", item_id=item_id)
            return None
        if item.status in m.TERMINAL:
            log.info("already_done", item_id=item_id, status=item.status)
            return None
        # Charged before any work that could kill this worker; raises ``attempts.Exhausted`` when
        # earlier deliveries used every attempt without ending (they died), before trying again.
        used = attempts.charged(item_id, item.attempts, rt.settings.max_attempts)
        if item.status != m.PROCESSING:
            add_audit(s, item_id, m.AuditAction.PROCESSING, item.status, m.PROCESSING,
                      policy_version=item.policy_version)
        set_item(s, item_id, status=m.PROCESSING, provider=provider, attempts=used)
        return Started(item.media_uri, bool(item.bank_in_use), item.tenant_id)


def _load_image(rt: Runtime, uri: str, provider) -> imaging.PreparedImage | frames.Sequence:
    ref = media.reparse(uri, rt.settings)
    if ref.scheme == "s3" and provider.reads_s3_directly:
        # One ranged GET of the object's first bytes: its header says whether Rekognition may read it in
        # place or it may have several frames and is read here (``s3_peek``); its version (or ETag) identifies
        # the content, so an earlier analysis is reused only for the very same object (MODQ_DEDUPE off: no reuse,
        # and the bank matches an unversioned reference by bucket and key, as before).
        peeked = s3_peek.peek(rt.s3(), ref.bucket, ref.key, ref.version)
        if peeked.in_place:
            return imaging.from_s3(ref.bucket, ref.key, ref.version or (peeked.version if rt.settings.dedupe else ""))
        data = s3_peek.fetch(rt.s3(), ref.bucket, ref.key, ref.version or peeked.version,
                             rt.settings.max_image_bytes)
    elif ref.scheme == "s3":
        data = fetch_s3_object(rt.s3(), ref.bucket, ref.key, ref.version, rt.settings.max_image_bytes)
    else:
        data = local.read_file(ref.path, rt.settings.max_image_bytes)
    sequence = frames.probe(data, frames.Limits.of(rt.settings))  # a still JPEG is not looked at again
    if sequence is not None:
        usage.note_media_type("animation")  # its calls are frames: `modq stats` counts them apart
        return sequence
    # The offline model decodes the pixels anyway: keep the validating decode instead of a second one.
    return imaging.prepare(data, keep_decoded=getattr(provider, "decodes_pixels", False),
                           max_decode_bytes=rt.settings.max_decode_bytes)
