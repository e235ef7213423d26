"""Tenants: the platforms one deployment moderates for, and what a caller may see of them.

Pure: names and scopes only. The ``tenants`` table and tokens live in
``moderation.tenants``. Every deployment has the tenant ``default`` (id 1,
made by migration ``0008_tenants``), so a deployment from before tenants keeps
working with no new configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from moderation.domain.errors import BadInput

DEFAULT_TENANT = "default"
DEFAULT_TENANT_ID = 1
ALL = "*"  # a reviewer or admin token for every tenant, present and future
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


def check_name(name: str) -> str:
    """A tenant name as it is stored: lowercase letters, digits, '-' and '_', 1-63 characters, not '*'."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise BadInput(f"tenant: {name!r} is not a tenant name (1-63 of a-z, 0-9, '-', '_'; starting with a "
                       "letter or digit)")
    return name


@dataclass(frozen=True)
class Scope:
    """The tenants a principal may act on: every one (``all``), or the ids listed."""

    tenant_ids: frozenset[int] = frozenset()
    all: bool = False

    def covers(self, tenant_id: int | None) -> bool:
        return self.all or tenant_id in self.tenant_ids

    def only(self) -> int | None:
        """The one tenant of a single-tenant scope (an ingest token's), else None."""
        return next(iter(self.tenant_ids)) if not self.all and len(self.tenant_ids) == 1 else None


EVERY_TENANT = Scope(all=True)
