"""How the thresholds file's values are read (``moderation.domain.policy.parse``): numbers, mappings, labels,
and collecting every problem in one pass rather than stopping at the first."""

from __future__ import annotations

from typing import Any, Callable

from moderation.domain import taxonomy
from moderation.domain.errors import ConfigError


def checked(problems: list[str], check: Callable[..., Any], *args: Any, fallback: Any = None) -> Any:
    """``check(*args)``, or ``fallback`` with its ``ConfigError`` added to ``problems``: one pass finds all."""
    try:
        return check(*args)
    except ConfigError as exc:
        problems.append(str(exc))
        return fallback


def mapping(value: Any, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def canonical_label(name: str, where: str, warnings: list[str]) -> str:
    label = taxonomy.lookup(name)
    if label:
        return label.name
    alias = taxonomy.resolve_alias(name)
    if alias:
        warnings.append(f"{where}.{name}: v6.1 label name, read as v7 {alias!r}")
        return alias
    raise ConfigError(f"{where}.{name}: unknown moderation label {name!r} (not in the Rekognition v7 taxonomy)")


def percent(value: Any, where: str, required: bool = False) -> float | None:
    if value is None and required:
        raise ConfigError(f"{where} must be a number between 0 and 100")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: {value!r} is not a number (use 0-100, or null)")
    if not 0 <= value <= 100:
        raise ConfigError(f"{where}: {value:g} is outside 0-100")
    return float(value)
