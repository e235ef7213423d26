"""Statements of reasons (EU DSA Art. 17 and 24(5)): what modq knows of a restrictive decision -> the body of a
``POST /api/v1/statement`` to the DSA Transparency Database (pure).

``build_statement(facts, transparency)`` gives the ``StatementStoreRequest`` body, field names and enumerations as
the API has them (``dsa_schema``). The tenant's ``transparency:`` section (``transparency_config``) says how taxonomy
categories map to DSA categories, what a rejection means and on which ground; the rest is derived from the facts:

- ``automated_detection`` / ``automated_decision`` from who decided (``automation``);
- ``content_type`` from the media type; ``source_type`` from how the item came to be judged;
- ``decision_facts`` in plain words, at most 5,000 characters, from this item's facts only, with every URI, file
  path and e-mail address replaced (``scrub``): the database is public and must hold no personal data or
  internal location;
- ``puid``: ``<tenant>_<item id>_<decision ref>`` (``puid``), unique per statement as the database requires.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from moderation.domain import dsa_schema as tdb, tenancy
from moderation.domain.transparency_config import FALLBACK, CategoryMapping, Transparency

YES, NO = "Yes", "No"
FULLY, PARTIALLY, NOT_AUTOMATED = tdb.AUTOMATED_DECISIONS
SOURCES = {  # how an item came to be judged -> source_type
    "voluntary": "SOURCE_VOLUNTARY", "notice": "SOURCE_ARTICLE_16", "article_16": "SOURCE_ARTICLE_16",
    "trusted_flagger": "SOURCE_TRUSTED_FLAGGER", "other_notification": "SOURCE_TYPE_OTHER_NOTIFICATION",
}
_SOURCE_TEXT = {
    "SOURCE_ARTICLE_16": "A user reported the content in a notice under Article 16 DSA.",
    "SOURCE_TRUSTED_FLAGGER": "A trusted flagger reported the content.",
    "SOURCE_TYPE_OTHER_NOTIFICATION": "The content was reported in a notification other than an Article 16 notice.",
}
_CONTENT_TYPES = {"image": "CONTENT_TYPE_IMAGE", "video": "CONTENT_TYPE_VIDEO", "audio": "CONTENT_TYPE_AUDIO",
                  "text": "CONTENT_TYPE_TEXT"}
_REF = re.compile(r"[A-Za-z0-9-]{1,64}")  # no "_": it separates the parts of a puid
ELLIPSIS = "\u2026"
LISTED_MAX = 20  # detections decision_facts lists (the most severe first): the rest are counted
REMOVED = "[removed]"
_SCRUB = re.compile(
    r"\b[a-z][a-z0-9+.-]*://\S*"  # scheme://... (https, s3, gs, file, ...)
    r"|\b(?:file|s3|gs|data|mailto|urn):\S+"  # scheme:... with no //
    r"|\bwww\.\S+"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail addresses
    r"|(?<![\w/])[A-Za-z]:\\\S*"  # C:\path
    r"|(?<![\w/:])(?:~|\.{1,2})?(?:/[\w.@%+=-]+){2,}/?",  # /absolute/path, ./relative/path
    re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Detection:
    label: str  # a taxonomy label (or a newer model's name)
    confidence: float | None = None  # percent; None: named by the reviewer, not measured
    frame: int | None = None  # media over time: the frame it was found in
    timestamp_ms: int | None = None  # ... and where, from the start


@dataclass(frozen=True)
class StatementFacts:
    """What modq knows of one restrictive decision on one item (one tenant's data only)."""

    tenant: str  # the tenant's name (tenancy.check_name)
    item_id: str
    media_type: str  # "image" | "video" (items.media_type), or a MIME type
    content_date: date  # when it was uploaded (items.created_at); a datetime is read in UTC
    application_date: date  # when the restriction applied (the decision's time)
    detections: tuple[Detection, ...] = ()  # in the decision's order: the most severe first
    policy_version: str = ""
    reviewer_reason: str | None = None  # free text: scrubbed before it is written
    reason_code: str | None = None
    source: str = "voluntary"  # a key of SOURCES
    decided_by_provider_or_bank: bool = True  # a model or a hash bank judged it restrictive
    reviewed_by_person: bool = False
    bank_match: bool = False
    decision_ref: str = "1"  # tells statements on one item apart (a sequence or the decision's id): [A-Za-z0-9-]

    @property
    def puid(self) -> str:
        return puid(self.tenant, self.item_id, self.decision_ref)


def puid(tenant: str, item_id: str, decision_ref: str = "1") -> str:
    """``<tenant>_<item id>_<decision ref>``: within [a-zA-Z0-9-_] and at most 329 characters. Tenant names are
    [a-z0-9_-]; an item id is used as it is when it is [A-Za-z0-9-]{1,200} (modq's are UUIDs), else as ``x`` and
    its SHA-256; the ref must be [A-Za-z0-9-]{1,64}. Neither the item part nor the ref holds "_", so the puid
    reads back unambiguously from the right and two statements never share one."""
    tenancy.check_name(tenant)
    if not _REF.fullmatch(decision_ref):
        raise ValueError(f"decision_ref: {decision_ref!r} is not 1-64 of A-Z, a-z, 0-9, '-'")
    item = item_id if re.fullmatch(r"[A-Za-z0-9-]{1,200}", item_id) else "x" + hashlib.sha256(
        item_id.encode()).hexdigest()
    return f"{tenant}_{item}_{decision_ref}"


def automation(decided_by_provider_or_bank: bool, reviewed_by_person: bool, notice: bool) -> tuple[str, str]:
    """``(automated_detection, automated_decision)``. Detection is "Yes" when a model or hash bank identified the
    content (a notice on it as well does not undo that: automated means were used); the decision is fully
    automated with no person, partially when a person confirmed a machine's finding, not automated when a person
    decided on a notice (or on their own initiative) with no model's finding involved."""
    if decided_by_provider_or_bank:
        return YES, (PARTIALLY if reviewed_by_person else FULLY)
    if reviewed_by_person:
        return NO, NOT_AUTOMATED
    raise ValueError("no decision to explain: neither a model or bank nor a person decided"
                     + (" (a notice alone restricts nothing)" if notice else ""))


def content_type(media_type: str) -> list[str]:
    kind = media_type.strip().lower().split("/", 1)[0]
    return [_CONTENT_TYPES.get(kind, "CONTENT_TYPE_OTHER")]


def build_statement(facts: StatementFacts, mapping: Transparency) -> dict[str, Any]:
    """The ``StatementStoreRequest`` body for ``facts`` under a tenant's ``transparency`` mapping."""
    source = SOURCES.get(facts.source)
    if source is None:
        raise ValueError(f"source: {facts.source!r} is not one of {', '.join(SOURCES)}")
    detected, decided = automation(facts.decided_by_provider_or_bank, facts.reviewed_by_person,
                                   source != "SOURCE_VOLUNTARY")
    found = [mapping.mapping_for(d.label) for d in facts.detections] or [FALLBACK]
    primary = found[0]
    body: dict[str, Any] = {
        "decision_visibility": list(mapping.restriction),
        **_ground(facts, mapping, primary),
        "category": primary.category,
        "category_specification": list(dict.fromkeys(k for m in found for k in m.keywords)),
        "content_type": content_type(facts.media_type),
        "content_date": _day(facts.content_date, "content_date", date(2000, 1, 1)),
        "application_date": _day(facts.application_date, "application_date", date(2020, 1, 1)),
        "decision_facts": decision_facts(facts),
        "source_type": source,
        "automated_detection": detected,
        "automated_decision": decided,
        "puid": facts.puid,
        "territorial_scope": list(mapping.territorial_scope),
    }
    more = list(dict.fromkeys(m.category for m in found if m.category != primary.category))
    if more:
        body["category_addition"] = more
    if body["content_type"] == ["CONTENT_TYPE_OTHER"]:
        body["content_type_other"] = _fit(f"Media of type {scrub(facts.media_type)}", tdb.TEXT_MAX)
    return body


def _ground(facts: StatementFacts, mapping: Transparency, primary: CategoryMapping) -> dict[str, Any]:
    ground = mapping.ground
    clause, url = primary.clause or ground.clause, primary.url or ground.url
    if ground.kind == "illegal_content":
        body = {"decision_ground": tdb.DECISION_GROUND_ILLEGAL, "illegal_content_legal_ground": clause,
                "illegal_content_explanation": ground.explanation}
    else:
        names = ", ".join(dict.fromkeys(scrub(d.label) for d in facts.detections))
        explanation = ground.explanation or (f"The content was found to show {names}, which is not allowed under "
                                             f"{clause}." if names else f"The content is incompatible with {clause}.")
        body = {"decision_ground": tdb.DECISION_GROUND_INCOMPATIBLE, "incompatible_content_ground": clause,
                "incompatible_content_explanation": _fit(explanation, tdb.EXPLANATION_MAX)}
        if ground.illegal is not None:
            body["incompatible_content_illegal"] = YES if ground.illegal else NO
    return {**body, **({"decision_ground_reference_url": url} if url else {})}


def decision_facts(facts: StatementFacts) -> str:
    """What was found and by whom, in plain words, within ``DECISION_FACTS_MAX`` characters."""
    measured = [d for d in facts.detections if d.confidence is not None]
    named = [d.label for d in facts.detections if d.confidence is None]
    parts = []
    if measured:
        more = f"; and {len(measured) - LISTED_MAX} more" if len(measured) > LISTED_MAX else ""
        parts.append("Detected automatically: " + "; ".join(_detection(d) for d in measured[:LISTED_MAX]) + more + ".")
    if facts.bank_match:
        parts.append("The media matched a hash bank of known violating content.")
    if facts.source in SOURCES and SOURCES[facts.source] in _SOURCE_TEXT:
        parts.append(_SOURCE_TEXT[SOURCES[facts.source]])
    if not facts.reviewed_by_person:
        parts.append("The decision was taken automatically, without human review.")
    elif facts.decided_by_provider_or_bank:
        parts.append("A moderator reviewed the automated finding and confirmed the restriction.")
    else:
        parts.append("A moderator reviewed the content and decided the restriction.")
    if named:
        parts.append("The moderator found: " + ", ".join(dict.fromkeys(_fit(n, 100) for n in named[:LISTED_MAX])) + ".")
    if facts.policy_version:
        parts.append(f"Policy version {facts.policy_version}.")
    if facts.reviewer_reason and facts.reviewer_reason.strip():
        code = f" (reason code: {facts.reason_code})" if facts.reason_code else ""
        parts.append(f"Reviewer's reason{code}: {' '.join(_CONTROL.sub(' ', facts.reviewer_reason).split())}")
    elif facts.reason_code:
        parts.append(f"Reviewer's reason code: {facts.reason_code}.")
    return _fit(scrub(" ".join(parts)), tdb.DECISION_FACTS_MAX)


def scrub(text: str) -> str:
    """``text`` with every URI, file path and e-mail address replaced by "[removed]", control characters by
    spaces."""
    return _SCRUB.sub(REMOVED, _CONTROL.sub(" ", text))


def _detection(d: Detection) -> str:
    where = " ".join(p for p in (f"frame {d.frame}" if d.frame is not None else "",
                                 f"at {_clock(d.timestamp_ms)}" if d.timestamp_ms is not None else "") if p)
    return f"{_fit(d.label, 100)} {d.confidence:.1f}%" + (f" ({where})" if where else "")


def _clock(ms: int) -> str:
    minutes, seconds = divmod(max(ms, 0) // 1000, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _fit(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a word boundary when one is near, ending in an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit - 100:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def _day(value: date, name: str, earliest: date) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(timezone.utc).date() if value.tzinfo else value.date()
    if not earliest <= value <= date(2038, 1, 1):
        raise ValueError(f"{name}: {value.isoformat()} is outside {earliest.isoformat()}..2038-01-01")
    return value.isoformat()
