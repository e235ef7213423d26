"""Tenants: create, list, show, and turn the names callers give into ids (``modq tenants``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from moderation.domain.errors import BadInput, ModqError
from moderation.domain.tenancy import ALL, DEFAULT_TENANT, Scope, check_name
from moderation.infra.db import transaction
from moderation.items.models import Item
from moderation.tenants.models import Tenant


class UnknownTenant(BadInput):
    def __init__(self, name: str):
        super().__init__(f"tenant: no tenant named {name!r} (`modq tenants list` shows them)")


class TenantExists(ModqError):
    pass


def create(database_url: str, name: str, created_by: str) -> dict[str, Any]:
    name = check_name(name.strip() if isinstance(name, str) else name)
    try:
        with transaction(database_url) as s:
            row = Tenant(name=name, created_by=created_by)
            s.add(row)
            s.flush()
            return describe(row)
    except IntegrityError:
        raise TenantExists(f"tenant: {name!r} already exists") from None


def listing(database_url: str) -> list[dict[str, Any]]:
    with transaction(database_url) as s:
        return [describe(t) for t in s.scalars(select(Tenant).order_by(Tenant.id))]


def show(database_url: str, name: str) -> dict[str, Any]:
    """A tenant and its items counted by status."""
    with transaction(database_url) as s:
        tenant = by_name(s, name)
        counts = dict(s.execute(select(Item.status, func.count()).where(Item.tenant_id == tenant.id)
                                .group_by(Item.status)).all())
        return {**describe(tenant), "items": counts}


def by_name(s: Session, name: str) -> Tenant:
    tenant = s.scalar(select(Tenant).where(Tenant.name == name))
    if tenant is None:
        raise UnknownTenant(name)
    return tenant


def tenant_id(database_url: str, name: str | None) -> int:
    """The id of the tenant named (``default`` when none is)."""
    with transaction(database_url) as s:
        return by_name(s, name or DEFAULT_TENANT).id


def names(database_url: str) -> dict[int, str]:
    with transaction(database_url) as s:
        return names_of_all(s)


def scope(s: Session, wanted: Iterable[str]) -> Scope:
    """The scope the names given describe: '*' for every tenant, else each named tenant (all must exist)."""
    wanted = [w.strip() for w in wanted]
    if ALL in wanted:
        if len(wanted) > 1:
            raise BadInput("tenant: '*' means every tenant; give it alone")
        return Scope(all=True)
    if not wanted:
        raise BadInput("tenant: name at least one tenant (or '*')")
    return Scope(tenant_ids=frozenset(by_name(s, name).id for name in wanted))


def describe(t: Tenant) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "created_by": t.created_by, "created_at": t.created_at.isoformat()}


def names_of(s: Session, ids: Iterable[int]) -> list[str]:
    return list(s.scalars(select(Tenant.name).where(Tenant.id.in_(list(ids))).order_by(Tenant.name)))


def names_of_all(s: Session) -> dict[int, str]:
    return dict(s.execute(select(Tenant.id, Tenant.name)).all())
