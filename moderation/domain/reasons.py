"""The ``reasons:`` section of a thresholds file: the reason codes a reviewer picks from, per category (pure).

    reasons:
      Explicit: [adult-nudity, sexual-activity]
      Graphic Violence: [graphic-violence, gore]
      Hate Symbols: [hate-symbol, extremist-propaganda]

A key is a label of the Rekognition v7 taxonomy at any level (a top-level category such as ``Explicit``, or a
label under one such as ``Graphic Violence``), written as the taxonomy spells it (case-insensitive, as
everywhere in the file). A code is a slug: lowercase letters, digits and single hyphens, at most 64 characters
(``reviews.reason_code``), unique within its category; the same code may serve several categories.

A review's code (``review.reason_codes``) must be one of the policy's codes; the console offers those of the
categories that fired on the item first (``for_labels``). No section: no codes (a review takes free text only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from moderation.domain import taxonomy
from moderation.domain.errors import ConfigError

CODE_MAX = 64  # reviews.reason_code
CODES_MAX = 50  # per category: more is no longer a list a reviewer picks from
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_EXAMPLE = "{Explicit: [adult-nudity, sexual-activity]}"


@dataclass(frozen=True)
class ReasonCodes:
    codes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # canonical label name -> its codes, as written

    def __bool__(self) -> bool:
        return bool(self.codes)

    def all(self) -> tuple[str, ...]:
        """Every code of every category, each once, in the file's order."""
        return tuple(dict.fromkeys(code for codes in self.codes.values() for code in codes))

    def known(self, code: str) -> bool:
        return code in self.all()

    def for_labels(self, labels: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Category -> codes for the categories ``labels`` fall under (a label, its L2, its L1), in the
        order the labels come (the item's rules: most severe first), each category once."""
        found: dict[str, tuple[str, ...]] = {}
        for label in labels:
            for name in taxonomy.ancestors(label):
                if name in self.codes:
                    found.setdefault(name, self.codes[name])
        return found

    def to_dict(self) -> dict[str, list[str]]:
        return {name: list(codes) for name, codes in self.codes.items()}


NONE = ReasonCodes()


def parse(value: Any, where: str) -> ReasonCodes:
    """The codes in a thresholds file's ``reasons`` value (None: no codes); ``ConfigError`` naming the key."""
    if value is None:
        return NONE
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"{where}: expected a mapping of category to a list of reason codes, like {_EXAMPLE}")
    codes: dict[str, tuple[str, ...]] = {}
    for key, listed in value.items():
        at = f"{where}.{key}"
        name = _category(key, at)
        if name in codes:
            raise ConfigError(f"{at}: {name!r} is listed twice")
        codes[name] = _codes(listed, at)
    return ReasonCodes(codes)


def _category(key: Any, at: str) -> str:
    label = taxonomy.lookup(str(key)) if isinstance(key, str) else None
    if label is None:
        raise ConfigError(f"{at}: unknown category {key!r} (use a label of the Rekognition v7 taxonomy, e.g. "
                          "Explicit or Graphic Violence)")
    return label.name


def _codes(listed: Any, at: str) -> tuple[str, ...]:
    if not isinstance(listed, list) or not listed:
        raise ConfigError(f"{at}: expected a non-empty list of reason codes, like [adult-nudity, sexual-activity]")
    if len(listed) > CODES_MAX:
        raise ConfigError(f"{at}: {len(listed)} codes, at most {CODES_MAX} per category")
    seen: list[str] = []
    for code in listed:
        if not is_slug(code):
            raise ConfigError(f"{at}: {code!r} is not a reason code (lowercase letters, digits and hyphens, "
                              f"1-{CODE_MAX} characters, e.g. adult-nudity)")
        if code in seen:
            raise ConfigError(f"{at}: {code!r} is listed twice")
        seen.append(code)
    return tuple(seen)


def is_slug(code: Any) -> bool:
    return isinstance(code, str) and len(code) <= CODE_MAX and _SLUG.fullmatch(code) is not None


def canonical(reasons: ReasonCodes | None) -> dict[str, Any]:
    """What the codes add to a policy's meaning (its version hash): nothing without a section, so such a file
    keeps the version it had."""
    return {"reasons": reasons.to_dict()} if reasons else {}


def diff(old: ReasonCodes, new: ReasonCodes) -> list[str]:
    """``reasons.<category>: a, b -> a, c`` for each category whose codes changed."""
    before, after = old.to_dict(), new.to_dict()
    return [f"reasons.{k}: {', '.join(before.get(k, [])) or '-'} -> {', '.join(after.get(k, [])) or '-'}"
            for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
