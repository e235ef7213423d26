"""Pure checks that settings and moderation share: S3 bucket names and per-operation rates.

They live here, not in ``moderation``, because ``config`` imports nothing from ``moderation``
(``.importlinter``, rule 2): settings validate with them at start-up, and moderation applies
the same rules to what callers submit (``moderation.infra.media.uris``, ``moderation.infra.coordination``).
"""

from __future__ import annotations

import re

_BUCKET_CHARS = re.compile(r"[a-z0-9.\-]+")
_IP_FORMATTED = re.compile(r"\d+\.\d+\.\d+\.\d+")
# Reserved by S3 for other things than general purpose buckets (access point and Multi-Region Access Point
# aliases, S3 Tables, punycode). Directory buckets ("--x-s3") are real buckets GetObject reads, so they stay.
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """Why ``name`` is not an S3 bucket name by AWS's naming rules, or None if it is one.

    Hand-written: botocore checks only the character set, so an IP-formatted "bucket" such as
    169.254.169.254 would otherwise be stored on an item and sent to S3. No such bucket can exist.
    """
    if not 3 <= len(name) <= 63:
        return "bucket names are 3-63 characters long"
    if not _BUCKET_CHARS.fullmatch(name):
        return "bucket names contain only lowercase letters, digits, dots and hyphens"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "bucket names start and end with a letter or digit"
    if ".." in name:
        return "bucket names do not contain '..'"
    if _IP_FORMATTED.fullmatch(name):
        return "bucket names are not formatted as an IP address"
    for prefix in _RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"the prefix {prefix!r} is reserved by S3"
    for suffix in _RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"the suffix {suffix!r} is reserved by S3"
    return None


def valid_bucket_name(name: str) -> bool:
    return bucket_name_problem(name) is None


def parse_rates(spec: str | None) -> dict[str, float]:
    """``"GetContentModeration=10,StartContentModeration=5"`` -> {operation: rate}; ValueError if malformed."""
    rates: dict[str, float] = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        try:
            rate = float(value)
        except ValueError:
            rate = -1.0
        if not sep or not name.strip().isalnum() or rate <= 0:
            raise ValueError(f"expected Operation=tps[,Operation=tps...] with tps > 0, got {part.strip()!r}")
        rates[name.strip()] = rate
    return rates
