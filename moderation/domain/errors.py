"""Error types that decide what happens to an item.

The worker never inspects messages: the class says whether to retry.
- ``BadInput``: the item can never succeed as submitted -> ``failed``, no retry.
- ``DeploymentFault``: our configuration or IAM is wrong -> ``failed`` and an
  operator alert, no retry (retrying would only burn quota).
- ``TransientFault``: try again later with backoff; after the configured
  attempts the item is ``failed`` with the last reason.

``SetupError`` is no item's: the command run by hand cannot work as modq is set up.
"""

from __future__ import annotations


class ModqError(Exception):
    """Base of every error modq raises on purpose."""


class ConfigError(ModqError):
    """Configuration that cannot be used; the message names the bad key."""


class InvalidPolicy(ConfigError):
    """A thresholds file with problems: ``problems`` lists every one, each naming its key."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class BadInput(ModqError):
    """The submitted media or request is unusable; a person must act."""


class RefusedSubmission(BadInput):
    """Rejected at submit time: nothing was stored or queued."""


class DeploymentFault(ModqError):
    """Access denied, missing region, ...: the operator must act."""


class TransientFault(ModqError):
    """Throttling, 5xx, timeouts, database down: worth another attempt."""


class Deferred(TransientFault):
    """Not the item's fault: wait and try again without spending an attempt.

    Throttling, an open circuit, another delivery already working on the item,
    the database being down. Tasks re-send themselves after ``retry_after``
    seconds (or their backoff) and MODQ_MAX_ATTEMPTS is not charged, so a
    throttling storm or an outage never fails an item (README "What modq
    guarantees").
    """

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Throttled(Deferred):
    """Over the rate: the global limiter had no token in time, or Rekognition throttled us."""


class SetupError(ModqError):
    """modq cannot run as it is set up: a database or broker URL that is malformed or answers nobody, a
    database not migrated. The message names the setting and what to do; ``modq`` prints it as one line and
    exits 2 (``modq --debug`` shows the traceback)."""


AMBIGUOUS_SHOWN = 5  # candidate ids an AmbiguousRef message lists


class AmbiguousRef(BadInput):
    """An id prefix (or an external id several tenants use) that names several items; ``candidates`` holds
    some of their ids."""

    def __init__(self, ref: str, candidates: list[str], what: str = "id prefix", hint: str = "give more characters"):
        shown = ", ".join(candidates[:AMBIGUOUS_SHOWN]) + (", ..." if len(candidates) > AMBIGUOUS_SHOWN else "")
        super().__init__(f"{what} {ref!r} matches several items: {shown}; {hint}")
        self.ref, self.candidates = ref, candidates
