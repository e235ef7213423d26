"""Which tenant a request acts for: the caller's token, narrowed by the ``tenant`` query parameter.

A token never learns about a tenant it does not act for: a ``tenant`` it does
not cover gets the same answer as one that does not exist. Reads see every
tenant of the token unless ``tenant`` names one; a write (a submit, a bank
entry) acts for exactly one tenant: the token's only one, or the one named.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from moderation.bootstrap import Runtime
from moderation.domain.errors import BadInput
from moderation.domain.tenancy import Scope, check_name
from moderation.tenants import services as tenants
from moderation.tenants.tokens import Principal

TenantParam = Annotated[str | None, Query(
    max_length=63, description="The tenant (platform) to act for, by name: needed by a token for several tenants "
                               "to submit, and to narrow what it reads; a token for one tenant may leave it out")]


def read_scope(rt: Runtime, principal: Principal, tenant: str | None) -> Scope:
    """What a read may see: every tenant of the token, or only the one named (which the token must act for)."""
    if tenant is None:
        return principal.scope
    return Scope(tenant_ids=frozenset({named(rt, principal, tenant)}))


def write_tenant(rt: Runtime, principal: Principal, tenant: str | None) -> int:
    """The one tenant a write acts for: the one named, else the token's only tenant. A token for several
    tenants (or '*') names one, except while the deployment has a single tenant (as before tenants)."""
    if tenant is not None:
        return named(rt, principal, tenant)
    only = principal.scope.only()
    if only is not None:
        return only
    every = tenants.names(rt.settings.database_url)
    if len(every) == 1 and principal.covers(next(iter(every))):
        return next(iter(every))
    raise BadInput("tenant: this token acts for several tenants: name the one to act for with ?tenant=NAME")


def named(rt: Runtime, principal: Principal, tenant: str, missing: type[Exception] | None = None) -> int:
    """The id of the tenant named, if the token acts for it; else the answer an unknown tenant gets: a 422 naming
    the ``tenant`` parameter, or ``missing`` (e.g. NotFound, where the tenant is the resource in the path)."""
    check_name(tenant)
    try:
        tenant_id = tenants.tenant_id(rt.settings.database_url, tenant)
    except tenants.UnknownTenant:
        tenant_id = None
    if tenant_id is None or not principal.covers(tenant_id):
        if missing is not None:
            raise missing(f"no tenant named {tenant!r} that this token acts for")
        raise BadInput(f"tenant: no tenant named {tenant!r} that this token acts for")
    return tenant_id
