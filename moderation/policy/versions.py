"""Versioned policies in the database: apply, read the active one, history.

Validation is ``moderation.policy.parse``'s; this module only stores what it
accepted. The version is the content hash ``ThresholdPolicy.version``.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from moderation.domain import policy
from moderation.infra.db import transaction
from moderation.infra.clock import utcnow
from moderation.policy.models import PolicyActivation, PolicyVersion


@dataclass(frozen=True)
class Applied:
    version: str
    created: bool  # False: it was already the active version; nothing changed
    policy: policy.ThresholdPolicy


@dataclass(frozen=True)
class Activation:
    version: str
    author: str
    note: str
    activated_at: datetime


def default_author() -> str:
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


def apply(database_url: str, text: str, *, author: str | None = None, note: str = "",
          source: str = "<thresholds>") -> Applied:
    """Validate ``text`` and make it the active policy (raises ConfigError naming the bad key)."""
    parsed = policy.parse(text, source=source)
    author = author or default_author()
    with transaction(database_url) as s:
        current = _active_row(s)
        if current is not None and current.version == parsed.version:
            return Applied(parsed.version, False, parsed)
        now = utcnow()
        if s.get(PolicyVersion, parsed.version) is None:
            s.add(PolicyVersion(version=parsed.version, yaml_text=text, author=author, note=note, created_at=now))
            s.flush()
        s.add(PolicyActivation(version=parsed.version, author=author, note=note, activated_at=now))
    return Applied(parsed.version, True, parsed)


def _active_row(s) -> PolicyActivation | None:
    return s.scalars(select(PolicyActivation).order_by(PolicyActivation.id.desc()).limit(1)).first()


def active_text(database_url: str) -> tuple[str, str] | None:
    """(version, YAML text) of the active policy, or None when none was ever applied."""
    with transaction(database_url) as s:
        row = s.execute(select(PolicyVersion.version, PolicyVersion.yaml_text)
                        .join(PolicyActivation, PolicyActivation.version == PolicyVersion.version)
                        .order_by(PolicyActivation.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else None


def get_text(database_url: str, version: str) -> str | None:
    """The YAML of a stored version (a unique prefix of the hash is enough)."""
    with transaction(database_url) as s:
        rows = s.scalars(select(PolicyVersion.yaml_text).where(PolicyVersion.version.startswith(version))
                         .limit(2)).all()
    return rows[0] if len(rows) == 1 else None


def history(database_url: str, limit: int = 50) -> list[Activation]:
    """Activations, newest first."""
    with transaction(database_url) as s:
        rows = s.scalars(select(PolicyActivation).order_by(PolicyActivation.id.desc()).limit(limit)).all()
        return [Activation(r.version, r.author, r.note, r.activated_at) for r in rows]


def describe(p: policy.ThresholdPolicy) -> dict:
    """A policy as JSON (what ``policy show`` prints)."""
    return {"version": p.version, **policy.to_dict(p),
            "providers": {k: policy.to_dict(v) for k, v in p.profiles.items()}}


def diff(old: policy.ThresholdPolicy, new: policy.ThresholdPolicy) -> list[str]:
    """Human-readable changes: min_confidence, default, per-label rules, provider profiles."""
    lines = _diff_profile(old, new, "")
    for name in sorted(set(old.profiles) | set(new.profiles)):
        if name not in new.profiles:
            lines.append(f"providers.{name}: profile removed")
        elif name not in old.profiles:
            lines.append(f"providers.{name}: profile added")
            lines += _diff_profile(old, new.profiles[name], f"providers.{name}.")
        else:
            lines += _diff_profile(old.profiles[name], new.profiles[name], f"providers.{name}.")
    return lines


def _rule_text(rule: policy.Rule | None) -> str:
    if rule is None:
        return "(none)"
    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:g}"

    return f"flag {f(rule.flag)}, reject {f(rule.reject)}"


def _diff_profile(old: policy.ThresholdPolicy, new: policy.ThresholdPolicy, prefix: str) -> list[str]:
    lines = []
    if old.min_confidence != new.min_confidence:
        lines.append(f"{prefix}min_confidence: {old.min_confidence:g} -> {new.min_confidence:g}")
    if old.default != new.default:
        lines.append(f"{prefix}default: {_rule_text(old.default)} -> {_rule_text(new.default)}")
    for label in sorted(set(old.rules) | set(new.rules)):
        a, b = old.rules.get(label), new.rules.get(label)
        if a != b:
            lines.append(f"{prefix}labels.{label}: {_rule_text(a)} -> {_rule_text(b)}")
    return lines
