"""The ``subjects:`` section of a thresholds file: when an uploader (a subject) is flagged (pure).

    subjects:
      alert_after: {rejected: 3, within: 7d}

A subject with ``rejected`` or more rejected items submitted within the last ``within`` (``Nd``, ``Nh`` or
``Nm``) raises one ``subject.flagged`` alert; it can alert again after it has fallen back under the rule
(``moderation.items.subjects``). No section: no rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from moderation.domain.errors import ConfigError

_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
_DURATION = re.compile(r"([1-9][0-9]{0,5})([dhm])")
MAX_WITHIN = timedelta(days=3660)
MAX_REJECTED = 100_000


@dataclass(frozen=True)
class SubjectRule:
    rejected: int  # this many rejected items ...
    within: str  # ... submitted within this long ("7d"), as written

    @property
    def window(self) -> timedelta:
        return duration(self.within, "within")

    def text(self) -> str:
        """How a flag records the rule it crossed (``subject_flags.rule``, at most 64 characters)."""
        return f"rejected>={self.rejected} within {self.within}"

    def to_dict(self) -> dict[str, Any]:
        return {"alert_after": {"rejected": self.rejected, "within": self.within}}


def duration(text: str, where: str) -> timedelta:
    found = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if found is None:
        raise ConfigError(f"{where}: {text!r} is not a duration (a whole number and d, h or m: 7d, 24h, 90m)")
    span = timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    if span > MAX_WITHIN:
        raise ConfigError(f"{where}: {text} is longer than {MAX_WITHIN.days} days")
    return span


def parse(value: Any, where: str) -> SubjectRule | None:
    """The rule in a thresholds file's ``subjects`` value (None: no rule); ``ConfigError`` naming the key."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping like {{alert_after: {{rejected: 3, within: 7d}}}}")
    unknown = sorted(set(value) - {"alert_after"}, key=str)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (allowed: alert_after)")
    body, where = value.get("alert_after"), f"{where}.alert_after"
    if not isinstance(body, dict):
        raise ConfigError(f"{where}: expected a mapping like {{rejected: 3, within: 7d}}")
    unknown = sorted(set(body) - {"rejected", "within"}, key=str)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (allowed: rejected, within)")
    for key in ("rejected", "within"):
        if key not in body:
            raise ConfigError(f"{where}.{key} is required")
    rejected = body["rejected"]
    if isinstance(rejected, bool) or not isinstance(rejected, int) or not 1 <= rejected <= MAX_REJECTED:
        raise ConfigError(f"{where}.rejected: {rejected!r} is not a whole number from 1 to {MAX_REJECTED}")
    within = str(body["within"]).strip() if isinstance(body["within"], str) else body["within"]
    duration(within, f"{where}.within")
    return SubjectRule(rejected, within)


def canonical(rule: SubjectRule | None) -> dict[str, Any]:
    """What the rule adds to a policy's meaning (its version hash): nothing when there is none, so a file
    without a ``subjects`` section keeps the version it had."""
    return {} if rule is None else {"subjects": rule.to_dict()}
