"""Versioned policies in the database: apply, read the active one, history; per tenant.

Validation is ``moderation.policy.parse``'s; this module only stores what it
accepted. The version is the content hash ``ThresholdPolicy.version``.

Two levels: the deployment's policy (activations with ``tenant_id`` NULL) and a
tenant's own (``tenant_id`` set). A tenant's items are decided by its own
newest activation, else by the deployment's, else by the MODQ_THRESHOLDS file.
Functions take tenant ids (None: the deployment's level); callers turn names
into ids (``moderation.tenants``).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from moderation.domain import policy
from moderation.domain import reasons as reason_codes, retention, transparency_config
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


@dataclass(frozen=True)
class Active:
    """The stored policy deciding a tenant's items, and whose activation it is."""

    version: str
    text: str
    tenant_id: int | None  # the tenant's own activation; None: the deployment's, which it inherits
    author: str
    note: str
    activated_at: datetime


def default_author() -> str:
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


def apply(database_url: str, text: str, *, author: str | None = None, note: str = "",
          source: str = "<thresholds>", tenant_id: int | None = None) -> Applied:
    """Validate ``text`` and make it the active policy of ``tenant_id`` (None: the deployment's) (raises
    ConfigError naming the bad key). A tenant that applies the version it inherits gets its own activation:
    later changes to the deployment's policy no longer move it."""
    parsed = policy.parse(text, source=source)
    author = author or default_author()
    with transaction(database_url) as s:
        current = _active_row(s, tenant_id)
        if current is not None and current.version == parsed.version:
            return Applied(parsed.version, False, parsed)
        now = utcnow()
        if s.get(PolicyVersion, parsed.version) is None:
            s.add(PolicyVersion(version=parsed.version, yaml_text=text, author=author, note=note, created_at=now))
            s.flush()
        s.add(PolicyActivation(version=parsed.version, tenant_id=tenant_id, author=author, note=note,
                               activated_at=now))
    return Applied(parsed.version, True, parsed)


def _level(tenant_id: int | None):
    return PolicyActivation.tenant_id.is_(None) if tenant_id is None else PolicyActivation.tenant_id == tenant_id


def _active_row(s, tenant_id: int | None = None) -> PolicyActivation | None:
    return s.scalars(select(PolicyActivation).where(_level(tenant_id))
                     .order_by(PolicyActivation.id.desc()).limit(1)).first()


def active(database_url: str, tenant_id: int | None = None) -> Active | None:
    """The stored policy deciding ``tenant_id``'s items (its own, else the deployment's; None: the
    deployment's), or None when neither was ever applied (the MODQ_THRESHOLDS file decides)."""
    with transaction(database_url) as s:
        mine = None if tenant_id is None else _active_row(s, tenant_id)
        row = mine or _active_row(s, None)
        if row is None:
            return None
        text = s.scalar(select(PolicyVersion.yaml_text).where(PolicyVersion.version == row.version))
        return Active(row.version, text, row.tenant_id, row.author, row.note, row.activated_at)


def active_text(database_url: str, tenant_id: int | None = None) -> tuple[str, str] | None:
    """(version, YAML text) of the policy deciding ``tenant_id``'s items (``active``), or None."""
    found = active(database_url, tenant_id)
    return (found.version, found.text) if found else None


def active_versions(database_url: str) -> dict[int | None, str]:
    """Every level's active version in one query: {tenant id (None: the deployment's): version}."""
    newest = select(func.max(PolicyActivation.id)).group_by(PolicyActivation.tenant_id)
    with transaction(database_url) as s:
        return dict(s.execute(select(PolicyActivation.tenant_id, PolicyActivation.version)
                              .where(PolicyActivation.id.in_(newest))).all())


def with_own_policy():
    """The ids of tenants with their own activation (a subquery): the deployment's policy does not decide
    their items."""
    return select(PolicyActivation.tenant_id).where(PolicyActivation.tenant_id.is_not(None)).distinct()


def texts(database_url: str, versions: set[str]) -> dict[str, str]:
    """The YAML of each stored version named."""
    with transaction(database_url) as s:
        return dict(s.execute(select(PolicyVersion.version, PolicyVersion.yaml_text)
                              .where(PolicyVersion.version.in_(sorted(versions)))).all())


def get_text(database_url: str, version: str) -> str | None:
    """The YAML of a stored version (a unique prefix of the hash is enough)."""
    with transaction(database_url) as s:
        rows = s.scalars(select(PolicyVersion.yaml_text).where(PolicyVersion.version.startswith(version))
                         .limit(2)).all()
    return rows[0] if len(rows) == 1 else None


def history(database_url: str, limit: int = 50, tenant_id: int | None = None) -> list[Activation]:
    """``tenant_id``'s own activations (None: the deployment's), newest first."""
    with transaction(database_url) as s:
        rows = s.scalars(select(PolicyActivation).where(_level(tenant_id))
                         .order_by(PolicyActivation.id.desc()).limit(limit)).all()
        return [Activation(r.version, r.author, r.note, r.activated_at) for r in rows]


def describe(p: policy.ThresholdPolicy) -> dict:
    """A policy as JSON (what ``policy show`` prints)."""
    return {"version": p.version, **policy.to_dict(p),
            "providers": {k: policy.to_dict(v) for k, v in p.profiles.items()}}


def diff(old: policy.ThresholdPolicy, new: policy.ThresholdPolicy) -> list[str]:
    """Human-readable changes: min_confidence, default, per-label rules, review priorities, reason codes, provider
    profiles."""
    lines = _diff_profile(old, new, "")
    ranks, to = old.priorities.to_dict(), new.priorities.to_dict()  # what the queue uses: written or the defaults
    lines += [f"priority.{k}: {ranks.get(k, '-')} -> {to.get(k, '-')}" for k in sorted(set(ranks) | set(to), key=str)
              if ranks.get(k) != to.get(k)]
    lines += reason_codes.diff(old.reasons, new.reasons)
    lines += transparency_config.diff(old.transparency, new.transparency)
    lines += retention.diff(old.retention, new.retention)
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
