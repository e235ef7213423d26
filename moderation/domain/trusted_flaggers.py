"""Trusted flaggers (Art. 22 DSA): the entities whose notices a tenant handles with priority (pure).

Configured per tenant in the thresholds file's ``transparency:`` section (``transparency_config``), as a list
of names or of ``{name, designated_by}`` (the Digital Services Coordinator that awarded the status, kept for the
record)::

    transparency:
      trusted_flaggers:
        - "Internet Watch Foundation"
        - {name: "Jugendschutz.net", designated_by: "Bundesnetzagentur"}

A notice (``POST /v1/notices``) that says ``trusted_flagger: true`` must name one of them as its notifier; names
match with case and runs of spaces ignored, so a name listed twice that way is refused.
"""

from __future__ import annotations

from typing import Any, Iterable

from moderation.domain import dsa_schema as tdb
from moderation.domain.errors import ConfigError

NAME_MAX = 255  # as a notice's notifier_name (transparency.models.Notice)
_ENTRY_KEYS = ("name", "designated_by")


def parse(value: Any, where: str) -> list[dict[str, str]]:
    """The entries, each ``{name[, designated_by]}`` (a plain name is ``{name}``); ``ConfigError`` naming the
    key. An empty list: none (as no key)."""
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list of names, or of {{name, designated_by}}")
    found: dict[str, dict[str, str]] = {}
    for i, entry in enumerate(value):
        at, body = f"{where}[{i}]", {"name": entry} if isinstance(entry, str) else entry
        if not isinstance(body, dict):
            raise ConfigError(f"{at}: expected a name, or a mapping with name and designated_by")
        unknown = sorted(set(body) - set(_ENTRY_KEYS), key=str)
        if unknown:
            raise ConfigError(f"{at}: unknown key {unknown[0]!r} (allowed: {', '.join(_ENTRY_KEYS)})")
        name = tdb.text(body.get("name"), f"{at}.name", NAME_MAX)
        if fold(name) in found:
            raise ConfigError(f"{at}.name: {name!r} is listed twice")
        found[fold(name)] = {"name": name, **{key: tdb.text(body[key], f"{at}.{key}", tdb.TEXT_MAX)
                                              for key in _ENTRY_KEYS[1:] if key in body}}
    return list(found.values())


def match(names: Iterable[str], name: str | None) -> str | None:
    """The configured name ``name`` is, case and spacing aside; None for no name or none of them."""
    wanted = fold(name)
    return next((n for n in names if fold(n) == wanted), None) if wanted else None


def fold(name: str | None) -> str:
    return " ".join((name or "").casefold().split())
