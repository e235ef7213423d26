"""Scrub credentials out of text before it is logged.

``logs._redact`` drops values whose *key* names a secret; this catches secrets
inside values: an exception message quoting a presigned URL, an external id
that is one, a traceback, a library's log line. Patterns cover presigned-URL
query parameters (SigV4 and SigV2), the signature and key id of a SigV4
Authorization header and passwords in URLs; on top, the values of the
process's own secret environment variables (AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN, MODQ_*TOKEN/SECRET/PASSWORD*) are replaced wherever they
appear.
"""

from __future__ import annotations

import os
import re
from typing import Any

MARK = "[redacted]"
_PATTERNS = [
    (re.compile(r"(?i)\b(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s\"'<>]+"), rf"\1{MARK}"),
    (re.compile(r"(?i)([?&](?:Signature|AWSAccessKeyId|x-amz-security-token)=)[^&\s\"'<>]+"), rf"\1{MARK}"),
    (re.compile(r"(?i)\b(Signature=)[0-9a-f]{64}\b"), rf"\1{MARK}"),  # SigV4 Authorization header
    (re.compile(r"\b(Credential=)[A-Z0-9]{16,128}/"), rf"\1{MARK}/"),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/?#@\s]*:)[^@/?#\s]+@"), rf"\1{MARK}@"),  # user:password@host
]
_ENV_SECRETS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
_SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD")
_MIN_SECRET = 12  # shorter values ("testing") would blank out ordinary words


def secret_values(environ: dict[str, str] | None = None) -> list[str]:
    env = os.environ if environ is None else environ
    names = [n for n in env if n in _ENV_SECRETS or (n.startswith("MODQ_") and any(w in n for w in _SECRET_WORDS))]
    return sorted({env[n] for n in names if len(env[n]) >= _MIN_SECRET}, key=len, reverse=True)


class Scrubber:
    def __init__(self, secrets: list[str] | None = None):
        self.secrets = secret_values() if secrets is None else secrets

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, MARK)
        if "=" in value or "://" in value:  # every pattern needs one of them: most values skip the regexes
            for pattern, replacement in _PATTERNS:
                value = pattern.sub(replacement, value)
        return value

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.value(v) for v in value)
        return value

    def __call__(self, _logger, _name, event_dict: dict) -> dict:
        """A structlog processor; put it after exceptions are formatted into text."""
        for key, value in event_dict.items():
            if not key.startswith("_"):  # _record, _from_structlog: structlog's own
                event_dict[key] = self.value(value)
        return event_dict
