"""A decision recorded on an item, as what follows it sees it (pure).

The deciding use cases (``items.outcomes`` for the automatic decision; ``review`` for a review, an override, an
appeal's decision, an undo) hand a ``Decided`` (or ``Undone``) to ``Runtime.decided`` in their own transaction;
the runtime passes it to the features built on decisions (``transparency``: a statement of reasons for a
restriction, the notices a decision answers), which the deciding packages do not import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

AUTOMATIC, REVIEW, OVERRIDE, APPEAL = "automatic", "review", "override", "appeal"
KINDS = (AUTOMATIC, REVIEW, OVERRIDE, APPEAL)


@dataclass(frozen=True)
class Decided:
    item_id: str
    verdict: str  # the item's status after the decision: approved | flagged | rejected
    previous: str  # ... and before it
    kind: str  # one of KINDS: who decided, and how
    ref: str  # the decision's id, [A-Za-z0-9-]: d<decision id>, r<review id>, o<review id>-<n>, p<appeal id>
    at: datetime
    actor: str | None = None  # the person (None: automatic)
    reason: str | None = None  # the person's reason (free text)
    reason_code: str | None = None
    hold_until: datetime | None = None  # a review's undo window: nothing it causes leaves before

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: {self.kind!r} is not one of {', '.join(KINDS)}")

    @property
    def by_person(self) -> bool:
        return self.kind != AUTOMATIC


@dataclass(frozen=True)
class Undone:
    """A review undone within its window (``review.undo``): what its decision caused is taken back."""

    item_id: str
    ref: str  # the undone decision's ref (r<review id>)
    at: datetime
