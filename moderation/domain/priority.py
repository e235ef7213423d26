"""The ``priority:`` section of a thresholds file: which flags a person sees first (pure).

    priority:
      Self-Harm: 1
      Violence: 2
      Hate Symbols: 2
      default: 4

A rank is a whole number from 1 (most urgent) to 99. A detected label takes the rank of its most specific
ranked ancestor (the label, its L2, its L1), as thresholds do; ``default`` ranks every other label (absent:
they come last, with items decided before priorities existed). An item waits in the review queue at the most
urgent rank among the labels whose rules fired (``items.review_priority``), then oldest first.

No section: ``DEFAULT`` (Rekognition v7 has no child-safety category; self-harm is the most urgent label it
has, then violence and hate, then nudity, then the rest). A section replaces the defaults as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from moderation.domain import taxonomy
from moderation.domain.errors import ConfigError

MAX_RANK = 99
OTHER = "other"  # the category of an item no ranked label placed


@dataclass(frozen=True)
class Priorities:
    ranks: dict[str, int] = field(default_factory=dict)  # canonical label name -> rank
    default: int | None = None  # the rank of any other label; None: last
    written: bool = False  # read from the file (part of the policy's version), not the defaults

    def placed_by(self, label: str) -> tuple[str, int | None]:
        """The ranked label that places ``label`` (or ``OTHER``) and its rank."""
        for name in taxonomy.ancestors(label):
            if name in self.ranks:
                return name, self.ranks[name]
        return OTHER, self.default

    def rank(self, labels: Iterable[str]) -> int | None:
        """The most urgent rank among ``labels`` (None: none is ranked and there is no default)."""
        ranks = [r for r in (self.placed_by(name)[1] for name in labels) if r is not None]
        return min(ranks) if ranks else None

    def categories(self) -> dict[int | None, list[str]]:
        """Rank -> the top-level categories (or ranked labels) it holds, most urgent first; ``OTHER`` at the
        default rank (None when there is none)."""
        tiers: dict[int | None, list[str]] = {}
        for name, rank in sorted(self.ranks.items(), key=lambda kv: (kv[1], kv[0])):
            tiers.setdefault(rank, []).append(name)
        tiers.setdefault(self.default, []).append(OTHER)
        return tiers

    def to_dict(self) -> dict[str, Any]:
        return {**dict(sorted(self.ranks.items())), **({"default": self.default} if self.default else {})}


DEFAULT = Priorities({"Self-Harm": 1, "Violence": 2, "Hate Symbols": 2, "Explicit": 3,
                      "Non-Explicit Nudity of Intimate parts and Kissing": 3})


def category(rank: int | None, priorities: Priorities) -> str:
    """How the queue page and ``modq_review_oldest_waiting_seconds{category}`` name a rank: its labels,
    joined with " / " when several share it (``other`` for NULL: no ranked label, or decided before)."""
    return " / ".join(priorities.categories().get(rank, [OTHER] if rank is None else [f"rank {rank}"]))


def parse(value: Any, where: str) -> Priorities:
    """The ranking in a thresholds file's ``priority`` value (None: ``DEFAULT``); ``ConfigError`` naming
    the key."""
    if value is None:
        return DEFAULT
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"{where}: expected a mapping of label to rank (1 = most urgent), like {{Self-Harm: 1}}")
    ranks, default = {}, None
    for key, rank in value.items():
        at = f"{where}.{key}"
        if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= MAX_RANK:
            raise ConfigError(f"{at}: {rank!r} is not a whole number from 1 (most urgent) to {MAX_RANK}")
        if key == "default":
            default = rank
            continue
        label = taxonomy.lookup(str(key))
        name = label.name if label else taxonomy.resolve_alias(str(key))
        if name is None:
            raise ConfigError(f"{at}: unknown moderation label {key!r} (not in the Rekognition v7 taxonomy)")
        if name in ranks:
            raise ConfigError(f"{at}: {name!r} is ranked twice")
        ranks[name] = rank
    return Priorities(ranks, default, written=True)


def canonical(priorities: Priorities | None) -> dict[str, Any]:
    """What the ranking adds to a policy's meaning (its version hash): nothing when the file has no
    ``priority`` section, so such a file keeps the version it had."""
    return {"priority": priorities.to_dict()} if priorities is not None and priorities.written else {}
