"""Moderating a multi-frame image: each chosen frame is paid for once, the most severe frame decides.

``frames`` reads the file and ``frame_selection`` picks the distinct frames a
viewer sees. Each picked frame is one provider call, unless paying once
(``pay_once``) already knows its picture: a hash bank entry or an earlier
analysis of the same pixels, in this file or any other, under the content key
``frame:<sha256 of the pixels>``. The item is judged on each label's highest
confidence over its frames (so its verdict is the most severe of its frames'),
and each reason names the frame that fired, as video reasons name the moment.
Every new frame analysis is stored under its own content key as soon as it is
made, for a retry of this item and for the next file showing the same picture.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from moderation.items.banks import services as banks
from moderation.infra.media import frames
from moderation.items import outcomes, pay_once
from moderation.providers import usage
from moderation.items.frame_evidence import evidence, frame_reasons
from moderation.domain.frame_selection import Distinct, choose
from moderation.infra.media.imaging import MIN_SIDE, REKOGNITION_MAX_BYTES, PreparedImage
from moderation.domain.policy import Decision, ThresholdPolicy, decide, severity
from moderation.domain.labels import Analysis, ModerationLabel
from moderation.infra.db import transaction
from moderation.providers.models import BANKED, REUSED

OPERATION = "DetectModerationLabels"
FRAME_KEY_PREFIX = "frame:"


@dataclass
class FrameResult:
    picture: Distinct
    labels: list[ModerationLabel]
    source: str  # "called", "reused" or "banked"
    analysis: Analysis | None = None  # a new answer (stored under ``key`` as soon as it came)
    analysis_id: int | None = None  # the stored analysis it is, or came from
    bank: banks.Match | None = None

    @property
    def key(self) -> str:
        return frame_key(self.picture.digest)


def frame_key(digest: str) -> str:
    return FRAME_KEY_PREFIX + digest


def moderate(rt, item_id: str, seq: frames.Sequence, policy: ThresholdPolicy, *, tenant_id: int) -> str:
    """Analyse the chosen frames of ``seq`` and record the item's decision (of tenant ``tenant_id``, whose
    bank entries and the global ones may decide a frame); return its status."""
    limits = frames.Limits.of(rt.settings)
    scanned = frames.scan(seq, limits)
    pictures = choose(scanned, limits.max_frames, seq.last_stays)
    decoded = frames.decode(seq, [p.index for p in pictures], limits)
    results = [_analyse(rt, picture, img, policy, tenant_id) for picture, (_, img) in zip(pictures, decoded)]
    decision = judge(results, policy)
    reasons = frame_reasons(decision, results, seq.pages) + [_coverage(results, scanned, seq)]
    version = next((r.analysis.model_version for r in results if r.analysis), None)
    combined = Analysis(rt.provider.name, version or getattr(rt.provider, "model_version", "unknown"),
                        _maxima(results), raw=evidence(results, scanned, seq))
    return outcomes.record(rt, item_id, combined, decision, seq.sha256, policy.min_confidence, reasons=reasons)


def _analyse(rt, picture: Distinct, img: Image.Image, policy: ThresholdPolicy, tenant_id: int) -> FrameResult:
    """One frame: a bank entry or an earlier analysis of its picture, else one provider call."""
    s, provider = rt.settings, rt.provider
    key = frame_key(picture.digest)
    pdq = banks.pdq_hex(img) if s.bank_pdq_distance else None
    known = pay_once.lookup(s.database_url, key, provider, policy.min_confidence, s.dedupe, pdq, s.bank_pdq_distance,
                            tenant_id=tenant_id)
    if known.bank is not None:
        usage.note_call(provider.name, OPERATION, BANKED)
        return FrameResult(picture, [], "banked", bank=known.bank)
    if known.reuse is not None:
        usage.note_call(provider.name, OPERATION, REUSED)
        return FrameResult(picture, known.reuse.analysis.labels, "reused", analysis_id=known.reuse.analysis_id)
    analysis = _call(provider, img, key, policy.min_confidence)
    return FrameResult(picture, analysis.labels, "called", analysis=analysis,
                       analysis_id=_store(s.database_url, analysis, key, policy.min_confidence))


def _store(database_url: str, analysis: Analysis, key: str, min_confidence: float) -> int:
    """Keep a frame's answer at once, in a transaction of its own: it describes a picture, not the item, so
    a retry of this item (throttled on a later frame, say) or any later file showing it reuses it unpaid."""
    with transaction(database_url) as s:
        return outcomes.stored_analysis(s, analysis, key, min_confidence, None).id


def _call(provider, img: Image.Image, key: str, min_confidence: float) -> Analysis:
    """One provider call for one frame (counted and priced by ``instrumented.InstrumentedProvider``)."""
    if getattr(provider, "decodes_pixels", False):  # the offline model takes the pixels as they are
        return provider.analyze_pil(img, min_confidence)
    data = jpeg_to_fit(img)
    return provider.analyze_image(PreparedImage(data=data, format="jpeg", width=img.width, height=img.height,
                                                sha256=key), min_confidence)


def jpeg_to_fit(rgb: Image.Image) -> bytes:
    """A JPEG under Rekognition's 5 MiB, downscaled only if needed (the still path's rule for other formats)."""
    scale = 1.0
    while True:
        size = (max(MIN_SIDE, int(rgb.width * scale)), max(MIN_SIDE, int(rgb.height * scale)))
        out = io.BytesIO()
        (rgb if scale == 1.0 else rgb.resize(size, Image.LANCZOS)).save(out, "JPEG", quality=90)
        if out.tell() <= REKOGNITION_MAX_BYTES:
            return out.getvalue()
        scale *= 0.75


def judge(results: list[FrameResult], policy: ThresholdPolicy) -> Decision:
    """Each label at its highest confidence over the frames, judged once (a label's verdict only grows with
    its confidence, so this is the most severe frame's verdict); a frame banked as rejected rejects."""
    decision = decide(_maxima(results), policy)
    banked = max((r.bank.verdict for r in results if r.bank is not None), key=severity, default="approved")
    if severity(banked) <= severity(decision.verdict):
        return decision
    fired = [r for r in decision.reasons if r.action != "none"]  # "no label reached..." no longer explains it
    return Decision(banked, fired, policy.version, decision.priority)


def _maxima(results: list[FrameResult]) -> list[ModerationLabel]:
    best: dict[str, ModerationLabel] = {}
    for result in results:
        for label in result.labels:
            if label.name not in best or label.confidence > best[label.name].confidence:
                best[label.name] = label
    return sorted(best.values(), key=lambda lab: (-lab.confidence, lab.taxonomy_level, lab.name))


def _coverage(results: list[FrameResult], scanned, seq: frames.Sequence) -> dict:
    """What was looked at, for the reviewer and the audit trail (the cost of the item is in it)."""
    noun = "pages" if seq.pages else "frames"
    counts = {source: sum(r.source == source for r in results) for source in ("called", "reused", "banked")}
    distinct = len({f.digest for f in scanned})
    text = (f"{len(results)} of {distinct} distinct {noun} analysed ({seq.frame_count} {noun} in the {seq.format}): "
            f"{counts['called']} provider calls, {counts['reused']} reused, {counts['banked']} from the hash bank")
    return {"kind": "frames", "frame_count": seq.frame_count, "distinct": distinct, "analysed": len(results),
            **counts, "text": text}
