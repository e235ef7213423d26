"""Threshold policies: load and validate a thresholds file; decide (pure).

``decide(labels, policy)`` does no I/O and gives a reason for every outcome.
The rule for a detected label is the most specific one configured: the label
itself, else its L2 parent, else its L1, else ``default``. Only the most
specific detections are judged: Rekognition also returns every ancestor of a
detected label, and judging those roll-ups again would let an L1 rule
override a deliberately lenient L3 rule.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

import yaml

from moderation.domain import priority, retention as retention_config, subject_rule, taxonomy, transparency_config
from moderation.domain import policy_fields as fields, reasons as reason_codes
from moderation.domain.errors import ConfigError, InvalidPolicy
from moderation.domain.labels import ModerationLabel

VERDICTS = ("approved", "flagged", "rejected")
_SEVERITY = {"approved": 0, "flagged": 1, "rejected": 2}
_TOP_KEYS = {"min_confidence", "default", "labels", "providers", "subjects", "priority", "reasons", "transparency",
             "retention"}
_PROFILE_KEYS = {"min_confidence", "default", "labels"}
# The optional sections beside the thresholds, each read (``parse``) and written (``canonical``) by its own module:
# (key in the file, module, ThresholdPolicy field, value when absent).
_SECTIONS = (("subjects", subject_rule, "subjects", None), ("priority", priority, "priorities", priority.DEFAULT),
             ("reasons", reason_codes, "reasons", reason_codes.NONE),
             ("transparency", transparency_config, "transparency", transparency_config.DEFAULT),
             ("retention", retention_config, "retention", retention_config.DEFAULT))


@dataclass(frozen=True)
class Rule:
    flag: float | None = None  # None: never flag
    reject: float | None = None  # None: never reject


@dataclass(frozen=True)
class Reason:
    label: str
    confidence: float
    action: str  # "flag" | "reject" | "none"
    threshold: float | None
    rule: str  # the label whose rule applied, or "default"

    def text(self) -> str:
        if self.action == "none":
            return self.label
        return f"{self.label} {self.confidence:.1f}% >= {self.action} {self.threshold:g} (rule: {self.rule})"


@dataclass(frozen=True)
class Decision:
    verdict: str
    reasons: list[Reason]
    policy_version: str
    priority: int | None = None  # its rank in the review queue (``priority.Priorities.rank``), lower first

    def reason_texts(self) -> list[str]:
        return [r.text() for r in self.reasons]


@dataclass(frozen=True)
class ThresholdPolicy:
    min_confidence: float
    default: Rule
    rules: dict[str, Rule]  # canonical label name -> rule
    version: str = ""
    profiles: dict[str, "ThresholdPolicy"] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    subjects: subject_rule.SubjectRule | None = None  # the ``subjects:`` rule (moderation.items.subjects)
    priorities: priority.Priorities = priority.DEFAULT  # the ``priority:`` ranking of the review queue
    reasons: reason_codes.ReasonCodes = reason_codes.NONE  # the ``reasons:`` codes reviewers pick from
    transparency: transparency_config.Transparency = transparency_config.DEFAULT  # DSA statements (.statements)
    retention: retention_config.Retention = retention_config.DEFAULT  # how long personal data is kept (privacy.retention)

    def for_provider(self, provider: str) -> "ThresholdPolicy":
        """The policy a provider's results are judged by (its profile, if any)."""
        return self.profiles.get(provider, self)

    def rule_for(self, label: str) -> tuple[str, Rule]:
        for name in taxonomy.ancestors(label):
            if name in self.rules:
                return name, self.rules[name]
        return "default", self.default


def decide(labels: Iterable[ModerationLabel], policy: ThresholdPolicy) -> Decision:
    considered = [lab for lab in labels if lab.confidence >= policy.min_confidence]
    specific = most_specific(considered)
    fired = [r for r in (_judge(lab, policy) for lab in specific) if r is not None]
    if not fired:
        return Decision("approved", [_approval_reason(considered)], policy.version)
    verdict = "rejected" if any(r.action == "reject" for r in fired) else "flagged"
    fired.sort(key=lambda r: (r.action != "reject", -r.confidence, r.label))
    return Decision(verdict, fired, policy.version, policy.priorities.rank(r.label for r in fired))


def severity(verdict: str) -> int:
    return _SEVERITY.get(verdict, -1)


def most_specific(labels: list[ModerationLabel]) -> list[ModerationLabel]:
    """Drop ancestors that are only roll-ups of a detected, at-least-as-confident child."""
    best_child: dict[str, float] = {}
    for lab in labels:
        for anc in taxonomy.ancestors(lab.name)[1:]:
            key = taxonomy.normalise(anc)
            best_child[key] = max(best_child.get(key, 0.0), lab.confidence)
    return [lab for lab in labels if best_child.get(taxonomy.normalise(lab.name), -1.0) < lab.confidence]


def _judge(label: ModerationLabel, policy: ThresholdPolicy) -> Reason | None:
    rule_name, rule = policy.rule_for(label.name)
    for action, threshold in (("reject", rule.reject), ("flag", rule.flag)):
        if threshold is not None and label.confidence >= threshold:
            return Reason(label.name, label.confidence, action, threshold, rule_name)
    return None


def _approval_reason(labels: list[ModerationLabel]) -> Reason:
    if not labels:
        return Reason("no moderation labels detected", 0.0, "none", None, "")
    top = max(labels, key=lambda lab: lab.confidence)
    text = f"no label reached a flag or reject threshold (highest: {top.name} {top.confidence:.1f}%)"
    return Reason(text, top.confidence, "none", None, "")


# --- loading and validation -------------------------------------------------


def load(path: Path | str) -> ThresholdPolicy:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"thresholds file {str(path)!r} cannot be read: {exc.strerror}") from None
    return parse(text, source=str(path))


def parse(text: str, source: str = "<thresholds>") -> ThresholdPolicy:
    """The policy in ``text``; ``InvalidPolicy`` listing every problem found (each naming its key)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{source}: expected a mapping with min_confidence, default, labels")
    warnings, problems = list[str](), list[str]()
    base = _profile(doc, _TOP_KEYS, source, warnings, problems, parent=None)
    profiles = {}
    for name, body in fields.checked(problems, fields.mapping, doc.get("providers"), f"{source}: providers", fallback={}).items():
        where = f"{source}: providers.{name}"
        if name not in ("local", "rekognition"):
            problems.append(f"{where}: unknown provider (use 'local' or 'rekognition')")
        elif not isinstance(body, dict):
            problems.append(f"{where}: expected a mapping")
        else:
            profiles[name] = _profile(body, _PROFILE_KEYS, where, warnings, problems, parent=base)
    sections = {attr: fields.checked(problems, module.parse, doc.get(key), f"{source}: {key}", fallback=absent)
                for key, module, attr, absent in _SECTIONS}
    if problems:
        raise InvalidPolicy(problems)
    version = _version(base, profiles, sections)
    profiles = {k: replace(p, version=version, **sections) for k, p in profiles.items()}
    return ThresholdPolicy(base.min_confidence, base.default, base.rules, version, profiles, tuple(warnings),
                           **sections)


def _profile(doc: dict, allowed: set[str], where: str, warnings: list[str], problems: list[str],
             parent: ThresholdPolicy | None) -> ThresholdPolicy:
    problems += [f"{where}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})"
                 for key in sorted(set(doc) - allowed, key=str)]
    fallback = parent or ThresholdPolicy(50.0, Rule(), {})
    min_conf = fields.checked(problems, fields.percent, doc.get("min_confidence", fallback.min_confidence),
                        f"{where}: min_confidence", True, fallback=fallback.min_confidence)
    default = _rule(doc["default"], f"{where}: default", problems) if "default" in doc else fallback.default
    rules = dict(fallback.rules)
    for raw_name, body in fields.checked(problems, fields.mapping, doc.get("labels"), f"{where}: labels", fallback={}).items():
        name = fields.checked(problems, fields.canonical_label, str(raw_name), f"{where}: labels", warnings)
        rules[name or raw_name] = _rule(body, f"{where}: labels.{raw_name}", problems)  # no name: a problem
    return ThresholdPolicy(min_conf, default, rules)


def _rule(body: Any, where: str, problems: list[str]) -> Rule:
    if not isinstance(body, dict):
        problems.append(f"{where}: expected a mapping like {{flag: 80, reject: 95}}")
        return Rule()
    problems += [f"{where}: unknown key {key!r} (allowed: flag, reject)"
                 for key in sorted(set(body) - {"flag", "reject"}, key=str)]
    flag = fields.checked(problems, fields.percent, body.get("flag"), f"{where}.flag")
    reject = fields.checked(problems, fields.percent, body.get("reject"), f"{where}.reject")
    if flag is not None and reject is not None and reject < flag:
        problems.append(f"{where}: reject ({reject:g}) is lower than flag ({flag:g})")
    return Rule(flag, reject)


def _version(base: ThresholdPolicy, profiles: dict[str, ThresholdPolicy], sections: dict[str, Any]) -> str:
    """Content hash of what the policy means (comments and layout don't count)."""
    canonical = json.dumps({"base": to_dict(base), "profiles": {k: to_dict(v) for k, v in sorted(profiles.items())},
                            **_written(sections)}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _written(sections: dict[str, Any]) -> dict[str, Any]:
    """The optional sections as they count in the version and ``to_dict`` (an absent one: nothing)."""
    return {k: v for _, module, attr, _ in _SECTIONS for k, v in module.canonical(sections[attr]).items()}


def to_dict(policy: ThresholdPolicy) -> dict[str, Any]:
    def rule(r: Rule) -> dict[str, float | None]:
        return {"flag": r.flag, "reject": r.reject}

    return {
        "min_confidence": policy.min_confidence,
        "default": rule(policy.default),
        "labels": {k: rule(v) for k, v in sorted(policy.rules.items())},
        **_written({attr: getattr(policy, attr) for _, _, attr, _ in _SECTIONS}),
    }
