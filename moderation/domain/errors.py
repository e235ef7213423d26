"""Error types that decide what happens to an item.

The worker never inspects messages: the class says whether to retry.
- ``BadInput``: the item can never succeed as submitted -> ``failed``, no retry.
- ``DeploymentFault``: our configuration or IAM is wrong -> ``failed`` and an
  operator alert, no retry (retrying would only burn quota).
- ``TransientFault``: try again later with backoff; after the configured
  attempts the item is ``failed`` with the last reason.
"""

from __future__ import annotations


class ModqError(Exception):
    """Base of every error modq raises on purpose."""


class ConfigError(ModqError):
    """Configuration that cannot be used; the message names the bad key."""


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
