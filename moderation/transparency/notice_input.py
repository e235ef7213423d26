"""What a notice (Art. 16 DSA) must hold before anything of it is stored: each rule refused with ``BadInput``
naming the field, so the API answers 422 and a Python caller learns the same.

Art. 16(2) DSA: a notice explains why the notifier holds the content illegal or against the terms, locates it
(an item of the tenant, by ``external_id``, or its media, which is then submitted), gives the notifier's name and
e-mail address (except for child sexual abuse material, where neither is asked: people must be able to report it
without naming themselves) and confirms it is made in good faith. ``trusted_flagger`` is the platform's claim
that the notifier is one of the tenant's trusted flaggers (Art. 22): it is checked against the tenant's
``transparency.trusted_flaggers``, never taken on trust.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from moderation.domain.errors import BadInput
from moderation.domain.transparency_config import Transparency
from moderation.domain.trusted_flaggers import NAME_MAX

EXPLANATION_MAX = 5000
EMAIL_MAX = 320  # RFC 3696 errata: 64 + 1 + 255
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")  # a shape check: the platform verified the address


@dataclass(frozen=True)
class NoticeIn:
    explanation: str
    external_id: str | None = None  # an item of the tenant ...
    media_uri: str | None = None  # ... or media to submit as a new item (with external_id, if given)
    media_type: str | None = None
    notifier_name: str | None = None
    notifier_email: str | None = None
    good_faith: bool | None = None  # must be True: the notifier's confirmation (Art. 16(2)(d))
    trusted_flagger: bool = False
    csam: bool = False  # child sexual abuse material: name and e-mail not required


def checked(notice: NoticeIn, transparency: Transparency) -> NoticeIn:
    """``notice`` as it will be stored (a trusted flagger's name as configured), or ``BadInput``."""
    if not (notice.external_id or notice.media_uri):
        raise BadInput("external_id: name the item (external_id) or its media (media_uri)")
    explanation = _text(notice.explanation, "explanation", EXPLANATION_MAX, multiline=True)
    if explanation is None or not explanation.strip():
        raise BadInput(f"explanation: required, why the content should be removed (1-{EXPLANATION_MAX} characters)")
    if notice.good_faith is not True:
        raise BadInput("good_faith: the notifier must confirm the notice is made in good faith (true)")
    for flag in ("trusted_flagger", "csam"):
        if not isinstance(getattr(notice, flag), bool):
            raise BadInput(f"{flag}: true or false")
    name = _text(notice.notifier_name, "notifier_name", NAME_MAX)
    email = _text(notice.notifier_email, "notifier_email", EMAIL_MAX)
    if email is not None and not _EMAIL.fullmatch(email):
        raise BadInput("notifier_email: not an e-mail address")
    if not notice.csam:
        for field, value in (("notifier_name", name), ("notifier_email", email)):
            if not value:
                raise BadInput(f"{field}: required (Art. 16(2)(c) DSA), except for child sexual abuse material "
                               "(csam: true)")
    if notice.trusted_flagger:
        name = transparency.trusted_flagger(name)
        if name is None:
            raise BadInput("trusted_flagger: notifier_name is not a trusted flagger of this tenant (the thresholds "
                           "file's transparency.trusted_flaggers)")
    return replace(notice, explanation=explanation, notifier_name=name, notifier_email=email)


def _text(value: object, field: str, limit: int, multiline: bool = False) -> str | None:
    """``value`` stripped (None for none or blank), within ``limit``, printable (``multiline``: newlines and
    tabs too), valid Unicode."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadInput(f"{field}: expected text")
    if len(value) > limit:
        raise BadInput(f"{field}: at most {limit} characters ({len(value)} given)")
    allowed = "\n\r\t" if multiline else ""
    if any(not (c.isprintable() or c in allowed) for c in value) or not _unicode(value):
        raise BadInput(f"{field}: must not contain control characters"
                       + (" (newlines and tabs are allowed)" if multiline else ""))
    return value.strip() or None


def _unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True
