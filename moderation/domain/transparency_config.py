"""The ``transparency:`` section of a thresholds file: how a restrictive decision becomes an EU DSA statement of
reasons (pure). Read at load like the rest of the policy, so each tenant's thresholds file carries its own.

    transparency:
      categories:                      # a v7 taxonomy label at any level -> DSA category and keywords
        Explicit: {category: STATEMENT_CATEGORY_OTHER_VIOLATION_TC, keywords: [KEYWORD_ADULT_SEXUAL_MATERIAL],
                   clause: "Community Guidelines 3.1 (sexual content)", url: "https://example.com/rules#3-1"}
        Weapons: STATEMENT_CATEGORY_VIOLENCE      # shorthand: the category alone, no keywords
      restriction: removed             # or a list: removed, disabled, demoted, age_restricted,
                                       #   interaction_restricted, labelled
      ground:                          # one of:
        incompatible_content: {clause: "Terms of Service 4", url: "https://example.com/terms", illegal: false}
        # illegal_content: {legal_ground: "...", explanation: "...", url: "https://eur-lex.europa.eu/..."}
      territorial_scope: [DE, AT]      # default: every EEA country
      trusted_flaggers:                # Art. 22: whose notices (POST /v1/notices) go first; by name, or
        - "Internet Watch Foundation"  #   {name: ..., designated_by: "the awarding Digital Services Coordinator"}

Every key is optional. ``categories`` entries are laid over ``BUILT_IN`` (a mapping for every top-level v7
category, plus Self-Harm); the entry of a label's most specific configured ancestor applies, as for the
thresholds. ``clause`` and ``url`` on an entry override the ground's for statements of that category.
The ground defaults to the terms and conditions with no URL: an operator should set both (README).
No section: ``DEFAULT``, and the policy version is the one it had before this section existed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moderation.domain import dsa_schema as tdb, taxonomy, trusted_flaggers as flaggers
from moderation.domain.errors import ConfigError

RESTRICTIONS = {  # what a rejection means on the platform -> decision_visibility
    "removed": "DECISION_VISIBILITY_CONTENT_REMOVED", "disabled": "DECISION_VISIBILITY_CONTENT_DISABLED",
    "demoted": "DECISION_VISIBILITY_CONTENT_DEMOTED", "age_restricted": "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "interaction_restricted": "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
    "labelled": "DECISION_VISIBILITY_CONTENT_LABELLED",
}
_KEYS = {"categories", "restriction", "ground", "territorial_scope", "trusted_flaggers"}
_ENTRY_KEYS = {"category", "keywords", "clause", "url"}
_GROUND_KEYS = {"incompatible_content": {"clause", "url", "explanation", "illegal"},
                "illegal_content": {"legal_ground", "explanation", "url"}}


@dataclass(frozen=True)
class CategoryMapping:
    category: str  # STATEMENT_CATEGORY_*
    keywords: tuple[str, ...] = ()  # KEYWORD_*
    clause: str | None = None  # overrides the ground's clause / legal ground for this category
    url: str | None = None  # overrides the ground's URL

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "keywords": list(self.keywords),
                **{k: v for k, v in (("clause", self.clause), ("url", self.url)) if v is not None}}


@dataclass(frozen=True)
class Ground:
    kind: str = "incompatible_content"  # or "illegal_content"
    clause: str = "Terms and conditions"  # incompatible: the contractual ground; illegal: the legal ground
    url: str | None = None
    explanation: str | None = None  # None: written from the labels (incompatible content only)
    illegal: bool | None = None  # incompatible_content_illegal (optional in the API)

    def to_dict(self) -> dict[str, Any]:
        body = {"legal_ground" if self.kind == "illegal_content" else "clause": self.clause, "url": self.url,
                "explanation": self.explanation, "illegal": self.illegal}
        return {self.kind: {k: v for k, v in body.items() if v is not None}}


_TC = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
BUILT_IN: dict[str, CategoryMapping] = {
    "Explicit": CategoryMapping(_TC, ("KEYWORD_ADULT_SEXUAL_MATERIAL",)),
    "Non-Explicit Nudity of Intimate parts and Kissing": CategoryMapping(_TC, ("KEYWORD_NUDITY",)),
    "Swimwear or Underwear": CategoryMapping(_TC),  # not nudity; no keyword of the listing fits
    "Violence": CategoryMapping("STATEMENT_CATEGORY_VIOLENCE"),
    "Self-Harm": CategoryMapping("STATEMENT_CATEGORY_SELF_HARM", ("KEYWORD_SELF_MUTILATION",)),
    "Visually Disturbing": CategoryMapping(_TC),
    "Drugs & Tobacco": CategoryMapping("STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
                                       ("KEYWORD_PROHIBITED_PRODUCTS",)),
    "Alcohol": CategoryMapping(_TC, ("KEYWORD_AGE_SPECIFIC_RESTRICTIONS",)),
    "Rude Gestures": CategoryMapping(_TC),
    "Gambling": CategoryMapping(_TC, ("KEYWORD_AGE_SPECIFIC_RESTRICTIONS",)),
    "Hate Symbols": CategoryMapping("STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", ("KEYWORD_HATE_SPEECH",)),
}
FALLBACK = CategoryMapping(_TC)  # a label outside the taxonomy (a newer model's), or a decision with no label


@dataclass(frozen=True)
class Transparency:
    categories: dict[str, CategoryMapping] = field(default_factory=lambda: dict(BUILT_IN))  # label -> mapping
    restriction: tuple[str, ...] = ("DECISION_VISIBILITY_CONTENT_REMOVED",)
    ground: Ground = Ground()
    territorial_scope: tuple[str, ...] = tdb.EEA_COUNTRY_CODES
    written: dict[str, Any] | None = None  # the section as read, canonical; None: no section
    trusted_flaggers: tuple[str, ...] = ()  # their names, as configured (Art. 22 DSA; ``trusted_flaggers``)

    def trusted_flagger(self, name: str | None) -> str | None:
        """The configured trusted flagger ``name`` names (case and spacing aside), else None."""
        return flaggers.match(self.trusted_flaggers, name)

    def mapping_for(self, label: str) -> CategoryMapping:
        """The entry of the label's most specific configured ancestor (the label, its L2, its L1; a v6.1 name
        read as v7), else ``FALLBACK``."""
        chain = taxonomy.ancestors(label if taxonomy.lookup(label) else taxonomy.resolve_alias(label) or label)
        return next((self.categories[n] for n in chain if n in self.categories), FALLBACK)


DEFAULT = Transparency()


def parse(value: Any, where: str) -> Transparency:
    """The mapping in a thresholds file's ``transparency`` value (None: ``DEFAULT``); ``ConfigError`` naming
    the key."""
    if value is None:
        return DEFAULT
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping with any of {', '.join(sorted(_KEYS))}")
    _no_unknown(value, _KEYS, where)
    readers = {"categories": _categories, "restriction": _restriction, "ground": _ground, "territorial_scope": _scope,
               "trusted_flaggers": flaggers.parse}
    read = {key: reader(value[key], f"{where}.{key}") for key, reader in readers.items() if key in value}
    return Transparency({**BUILT_IN, **read.get("categories", {})}, read.get("restriction", DEFAULT.restriction),
                        read.get("ground", DEFAULT.ground), read.get("territorial_scope", DEFAULT.territorial_scope),
                        {key: _plain(v) for key, v in read.items() if v != []} or None,  # {} or []: as none
                        tuple(entry["name"] for entry in read.get("trusted_flaggers", [])))


def canonical(transparency: Transparency | None) -> dict[str, Any]:
    """What the section adds to a policy's meaning (its version hash): nothing without a section, so such a
    file keeps the version it had."""
    written = transparency.written if transparency is not None else None
    return {} if written is None else {"transparency": written}


def diff(old: Transparency, new: Transparency) -> list[str]:
    """``transparency.<key>: before -> after`` for each part whose meaning changed (what statements use: the
    file's section over the built-in defaults)."""
    def flat(t: Transparency) -> dict[str, Any]:
        return {**{f"categories.{k}": m.to_dict() for k, m in t.categories.items()}, "restriction": list(t.restriction),
                "ground": t.ground.to_dict(), "territorial_scope": list(t.territorial_scope),
                "trusted_flaggers": list(t.trusted_flaggers)}
    before, after = flat(old), flat(new)
    return [f"transparency.{k}: {before.get(k, '-')} -> {after.get(k, '-')}"
            for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]


def _plain(value: Any) -> Any:
    """A part of the section as it counts in the version and ``policy.to_dict``."""
    if isinstance(value, dict):
        return {name: mapping.to_dict() for name, mapping in value.items()}
    return value.to_dict() if isinstance(value, Ground) else list(value)


def _categories(value: Any, where: str) -> dict[str, CategoryMapping]:
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"{where}: expected a mapping of taxonomy label to DSA category, like "
                          "{Violence: {category: STATEMENT_CATEGORY_VIOLENCE, keywords: []}}")
    found: dict[str, CategoryMapping] = {}
    for key, body in value.items():
        at = f"{where}.{key}"
        label = taxonomy.lookup(key) if isinstance(key, str) else None
        name = label.name if label else taxonomy.resolve_alias(str(key))
        if name is None:
            raise ConfigError(f"{at}: unknown moderation label {key!r} (use a label of the Rekognition v7 "
                              "taxonomy, e.g. Explicit or Graphic Violence)")
        if name in found:
            raise ConfigError(f"{at}: {name!r} is mapped twice")
        found[name] = _entry({"category": body} if isinstance(body, str) else body, at)
    return found


def _entry(body: Any, at: str) -> CategoryMapping:
    if not isinstance(body, dict):
        raise ConfigError(f"{at}: expected a DSA category or a mapping with category, keywords, clause, url")
    _no_unknown(body, _ENTRY_KEYS, at)
    category = tdb.one_of(body.get("category"), tdb.STATEMENT_CATEGORIES, f"{at}.category", "a DSA category")
    keywords = body.get("keywords", [])
    if not isinstance(keywords, list):
        raise ConfigError(f"{at}.keywords: expected a list of KEYWORD_... names (may be empty)")
    checked = tuple(dict.fromkeys(tdb.one_of(k, tdb.KEYWORDS, f"{at}.keywords", "a DSA keyword") for k in keywords))
    clause = tdb.text(body["clause"], f"{at}.clause", tdb.TEXT_MAX) if "clause" in body else None
    url = tdb.url(body["url"], f"{at}.url") if "url" in body else None
    return CategoryMapping(category, checked, clause, url)


def _restriction(value: Any, where: str) -> tuple[str, ...]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names:
        raise ConfigError(f"{where}: expected one of {', '.join(RESTRICTIONS)} (or a list of them)")
    found = []
    for name in names:
        key = RESTRICTIONS.get(name) if isinstance(name, str) else None
        if key is None and name in tdb.DECISION_VISIBILITIES and name != "DECISION_VISIBILITY_OTHER":
            key = name
        if key is None:
            raise ConfigError(f"{where}: {name!r} is not a restriction (use {', '.join(RESTRICTIONS)}; 'other' "
                              "needs a description and is not supported)")
        found.append(key)
    return tuple(dict.fromkeys(found))


def _ground(value: Any, where: str) -> Ground:
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in _GROUND_KEYS:
        raise ConfigError(f"{where}: expected exactly one of incompatible_content: {{clause, url}} or "
                          "illegal_content: {legal_ground, explanation, url}")
    kind, body = next(iter(value.items()))
    at = f"{where}.{kind}"
    if not isinstance(body, dict):
        raise ConfigError(f"{at}: expected a mapping with {', '.join(sorted(_GROUND_KEYS[kind]))}")
    _no_unknown(body, _GROUND_KEYS[kind], at)
    url = tdb.url(body["url"], f"{at}.url") if "url" in body else None
    explanation = tdb.text(body["explanation"], f"{at}.explanation", tdb.EXPLANATION_MAX) if "explanation" in body \
        else None
    if kind == "illegal_content":
        for key in ("legal_ground", "explanation"):
            if key not in body:
                raise ConfigError(f"{at}.{key}: required for illegal content (the law relied on, and why the "
                                  "content is illegal under it)")
        return Ground(kind, tdb.text(body["legal_ground"], f"{at}.legal_ground", tdb.TEXT_MAX), url, explanation)
    illegal = body.get("illegal")
    if illegal is not None and not isinstance(illegal, bool):
        raise ConfigError(f"{at}.illegal: {illegal!r} is not true or false")
    clause = tdb.text(body["clause"], f"{at}.clause", tdb.TEXT_MAX) if "clause" in body else Ground.clause
    return Ground(kind, clause, url, explanation, illegal)


def _scope(value: Any, where: str) -> tuple[str, ...]:
    if value == "EEA":
        return tdb.EEA_COUNTRY_CODES
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}: expected EEA or a non-empty list of EEA country codes, like [DE, AT]")
    # YAML 1.1 reads an unquoted NO (Norway) as false: in a list of countries it can mean nothing else
    codes = [tdb.one_of("NO" if code is False else code, tdb.EEA_COUNTRY_CODES, where,
                     "an EEA country code (ISO 3166, Greece is GR)") for code in value]
    return tuple(c for c in tdb.EEA_COUNTRY_CODES if c in codes)


def _no_unknown(body: dict, allowed: set[str], at: str) -> None:
    unknown = sorted(set(body) - allowed, key=str)
    if unknown:
        raise ConfigError(f"{at}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
