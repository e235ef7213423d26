"""API tokens and console sessions.

A token is shown once, when created; the database keeps only its SHA-256, so a
leaked database or backup yields no usable token. Tokens are 256-bit random,
so a plain (unsalted) hash is enough: there is nothing to brute-force.
Tokens and session secrets are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_, select

from moderation.domain.errors import BadInput
from moderation.domain.tenancy import DEFAULT_TENANT, Scope
from moderation.infra.db import autocommit, transaction
from moderation.infra.clock import utcnow
from moderation.items.models import AuditAction, AuditEvent
from moderation.tenants import services as tenants
from moderation.tenants.models import ADMIN, INGEST, ROLES, SENIOR, ApiToken, ConsoleSession

PREFIX = "modq_"  # recognisable in secret scanners and config files
ACTOR_MAX = 128  # items.lease_owner and reviews.reviewer hold a Principal.actor
_RESERVED = {"system", "api"}  # actors modq itself writes in the audit trail (and "cli:<user>")


@dataclass(frozen=True)
class Principal:
    token_id: int
    name: str
    role: str
    scope: Scope = Scope()  # the tenants it acts for

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def is_senior(self) -> bool:
        """May decide escalated items (issue 17.6): a senior reviewer, or an admin."""
        return self.role in (SENIOR, ADMIN)

    @property
    def actor(self) -> str:
        """How the audit trail, leases and reviews name it: the token's name and id, so two services (or two
        people's tokens of one name) are told apart. At most ``ACTOR_MAX`` characters, the columns that hold it
        (a long name is cut, the id never)."""
        suffix = f" (token {self.token_id})"
        return self.name[:ACTOR_MAX - len(suffix)] + suffix

    def covers(self, tenant_id: int | None) -> bool:
        return self.scope.covers(tenant_id)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create(database_url: str, name: str, role: str, created_by: str,
           tenant_names: list[str] | tuple[str, ...] = (DEFAULT_TENANT,)) -> tuple[int, str]:
    """A new token for the tenants named ('*': every tenant; reviewer and admin only, an ingest token is for
    exactly one); returns (id, token). The token cannot be recovered later."""
    name = name.strip()
    if role not in ROLES:
        raise BadInput(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if (not 1 <= len(name) <= 128 or not name.isprintable() or name.lower() in _RESERVED
            or name.lower().startswith("cli:")):
        raise BadInput("token name must be 1-128 printable characters, not 'system', 'api' or 'cli:...'")
    token = PREFIX + secrets.token_urlsafe(32)
    with transaction(database_url) as s:
        scope = tenants.scope(s, tenant_names)
        if role == INGEST and scope.only() is None:
            raise BadInput("tenant: an ingest token submits for exactly one tenant")
        row = ApiToken(name=name, role=role, token_hash=digest(token), created_by=created_by,
                       tenant_ids=sorted(scope.tenant_ids), all_tenants=scope.all)
        s.add(row)
        s.flush()
        s.add(AuditEvent(actor=created_by, action=AuditAction.TOKEN_CREATE, tenant_id=scope.only(),
                         reason=f"token {row.id} {name!r} role {role} tenants {_scope_text(scope, s)}"))
        return row.id, token


def _scope_text(scope: Scope, s) -> str:
    if scope.all:
        return "*"
    return ",".join(tenants.names_of(s, scope.tenant_ids))


def revoke(database_url: str, ref: str, actor: str) -> list[int]:
    """Revoke the token with this id, or every active token with this name."""
    with transaction(database_url) as s:
        match = ApiToken.name == ref
        if ref.isdigit():
            match = or_(match, ApiToken.id == int(ref))
        rows = list(s.scalars(select(ApiToken).where(match, ApiToken.revoked_at.is_(None))))
        for row in rows:
            row.revoked_at = utcnow()
            s.add(AuditEvent(actor=actor, action=AuditAction.TOKEN_REVOKE,
                             reason=f"token {row.id} {row.name!r} role {row.role}"))
        # Sessions opened with a revoked token end now, not when they expire.
        ids = [row.id for row in rows]
        if ids:
            s.execute(delete(ConsoleSession).where(ConsoleSession.token_id.in_(ids)))
        return ids


def list_tokens(database_url: str) -> list[dict]:
    with transaction(database_url) as s:
        rows = list(s.scalars(select(ApiToken).order_by(ApiToken.id)))
        names = tenants.names_of_all(s)
        return [{"id": r.id, "name": r.name, "role": r.role,
                 "tenants": ["*"] if r.all_tenants else [names.get(t, str(t)) for t in r.tenant_ids],
                 "created_by": r.created_by, "created_at": r.created_at.isoformat(),
                 "revoked": r.revoked_at is not None} for r in rows]


def authenticate(database_url: str, presented: str | None) -> Principal | None:
    """The principal for an active token, or None."""
    if not presented or not presented.startswith(PREFIX) or len(presented) > 128:
        return None
    wanted = digest(presented)
    # Every API request asks: one indexed read, with no transaction of its own and no ORM object.
    with autocommit(database_url) as conn:
        row = conn.execute(select(ApiToken.id, ApiToken.name, ApiToken.role, ApiToken.token_hash,
                                  ApiToken.revoked_at, ApiToken.tenant_ids, ApiToken.all_tenants)
                           .where(ApiToken.token_hash == wanted)).first()
    # The index finds the row; the final equality does not depend on the
    # database's collation rules, and takes the same time either way.
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, wanted):
        return None
    return Principal(row.id, row.name, row.role, _scope(row))


def _scope(row) -> Scope:
    return Scope(tenant_ids=frozenset(row.tenant_ids or ()), all=bool(row.all_tenants))


# --- console sessions ---------------------------------------------------------


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf_token: str


def open_session(database_url: str, principal: Principal, hours: float) -> tuple[str, str]:
    """A new session for a signed-in principal; returns (cookie secret, CSRF token)."""
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    with transaction(database_url) as s:
        s.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= now))  # housekeeping
        s.add(ConsoleSession(session_hash=digest(secret), token_id=principal.token_id, csrf_token=csrf,
                             expires_at=now + timedelta(hours=hours)))
    return secret, csrf


def session(database_url: str, secret: str | None) -> Session | None:
    """The live session for a cookie value: not expired, token not revoked."""
    if not secret or len(secret) > 128:
        return None
    with transaction(database_url) as s:
        row = s.execute(
            select(ConsoleSession, ApiToken).join(ApiToken, ApiToken.id == ConsoleSession.token_id)
            .where(ConsoleSession.session_hash == digest(secret), ConsoleSession.expires_at > utcnow(),
                   ApiToken.revoked_at.is_(None))
        ).first()
        if row is None:
            return None
        sess, token = row
        return Session(Principal(token.id, token.name, token.role, _scope(token)), sess.csrf_token)


def close_session(database_url: str, secret: str | None) -> None:
    if secret:
        with transaction(database_url) as s:
            s.execute(delete(ConsoleSession).where(ConsoleSession.session_hash == digest(secret)))


def same_secret(expected: str, presented: str | None) -> bool:
    """Constant-time comparison (CSRF tokens)."""
    return bool(presented) and hmac.compare_digest(expected.encode(), presented.encode("utf-8", "surrogatepass"))
