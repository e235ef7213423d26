"""The ``retention:`` section of a thresholds file: how long a tenant keeps its decided items' personal data
(pure; issue 19). Read at load like the rest of the policy, so each tenant's file carries its own.

    retention:
      approved_days: 30            # approved automatically, never reviewed
      flagged_rejected_days: 180   # flagged or rejected automatically, never reviewed
      failed_days: 180
      reviewed_days: 180           # a person decided it (a review, an override, an appeal)
      pay_once: keep               # keep | drop: content hashes and reusable analyses of purged items

Personal data is what identifies a person or their upload: the media URI, metadata, subject id, the raw provider
response and free text people wrote (reviewers' reasons, appeal statements, escalation notes, notices). Past its
time an item's are replaced by a tombstone (``privacy.scrub``); what the law and the reports need stays (verdict,
labels and confidences, policy version, times, tenant, statements of reasons, appeal outcomes). Days count from
the item's decision (``items.decided_at``; a failed item's last change). No section: ``DEFAULT`` (these numbers),
and the policy version is the one it had before this section existed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from moderation.domain.errors import ConfigError

MAX_DAYS = 3660  # ten years: longer is no retention limit
PAY_ONCE = ("keep", "drop")


@dataclass(frozen=True)
class Retention:
    approved_days: int = 30
    flagged_rejected_days: int = 180
    failed_days: int = 180
    reviewed_days: int = 180
    pay_once: str = "keep"
    written: bool = False  # read from the file (part of the policy's version), not the defaults

    def days_for(self, status: str, reviewed: bool) -> int:
        """How long an item of ``status`` (reviewed by a person or not) keeps its personal data."""
        if reviewed:
            return self.reviewed_days
        return {"approved": self.approved_days, "failed": self.failed_days}.get(status, self.flagged_rejected_days)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "written"}


DEFAULT = Retention()
_DAYS = ("approved_days", "flagged_rejected_days", "failed_days", "reviewed_days")


def parse(value: Any, where: str) -> Retention:
    """The section's value (None: ``DEFAULT``); ``ConfigError`` naming the key."""
    if value is None:
        return DEFAULT
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping such as {{approved_days: 30, reviewed_days: 180}}")
    unknown = sorted(set(value) - {*_DAYS, "pay_once"}, key=str)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key; expected {', '.join((*_DAYS, 'pay_once'))}")
    read: dict[str, Any] = {}
    for key in _DAYS:
        if key in value:
            days = value[key]
            if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
                raise ConfigError(f"{where}.{key}: expected a whole number of days from 1 to {MAX_DAYS}, "
                                  f"got {days!r}")
            read[key] = days
    if "pay_once" in value:
        if value["pay_once"] not in PAY_ONCE:
            raise ConfigError(f"{where}.pay_once: expected keep or drop, got {value['pay_once']!r}")
        read["pay_once"] = value["pay_once"]
    return Retention(**read, written=True)


def canonical(retention: Retention | None) -> dict[str, Any]:
    """What the section adds to a policy's meaning (its version hash): nothing without one."""
    return {"retention": retention.to_dict()} if retention is not None and retention.written else {}


def diff(old: Retention, new: Retention) -> list[str]:
    """``retention.<key>: old -> new`` for each setting that changed."""
    before, after = old.to_dict(), new.to_dict()
    return [f"retention.{k}: {before[k]} -> {after[k]}" for k in before if before[k] != after[k]]
