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
