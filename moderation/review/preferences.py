"""Reviewer preferences (issue 17.8-9): how the console shows media and whether single-key shortcuts fire.

Three layers, the last that says something wins: the built-in ``DEFAULTS`` < the tenant's defaults (set by an
admin of that tenant, audited as ``review_defaults``) < the reviewer's own settings. A reviewer is an actor
string, ``"<name> (token <id>)"``, the name leases and reviews carry: a new token starts from its tenant's
defaults again, as a new person would.

Which tenant's defaults apply (``tenant_of``): the token's only tenant; for a token acting for several (or
'*'), the ``default`` tenant's. The console of such a reviewer mixes items of several tenants in one queue,
and its media must not start blurred on one item and clear on the next because the item changed tenant; the
``default`` tenant exists in every deployment and is the operator's own, so its admin sets what reviewers who
work across platforms see.
"""

from __future__ import annotations

from typing import Any

from moderation.domain.errors import BadInput
from moderation.domain.tenancy import DEFAULT_TENANT_ID, Scope
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items.models import AuditAction, AuditEvent
from moderation.items.queries import iso
from moderation.review.models import ReviewerPreferences, TenantReviewDefaults
from moderation.review.services import NotFound
from moderation.tenants.models import ApiToken
from moderation.tenants.tokens import Principal

# The preferences and what they are without any setting: the safer choice for the reviewer's wellbeing.
DEFAULTS: dict[str, bool] = {
    "blur_by_default": True,  # flagged media starts blurred until revealed
    "grayscale_after_reveal": False,  # revealed media is shown in grey (less vivid gore)
    "video_muted": True,  # video starts muted
    "shortcuts": True,  # single-key shortcuts (a, r, n, ...); off for WCAG 2.1.4 (speech input, tremor)
}
DESCRIPTIONS = {
    "blur_by_default": "Blur flagged media until I reveal it",
    "grayscale_after_reveal": "Show revealed media in grayscale",
    "video_muted": "Start videos muted",
    "shortcuts": "Single-key keyboard shortcuts (a, r, n, j/k/l, ...)",
}


def check(settings: Any) -> dict[str, bool]:
    """Settings as stored: an object of known keys with true/false values (BadInput naming the key)."""
    if not isinstance(settings, dict):
        raise BadInput(f"preferences: an object of {', '.join(DEFAULTS)} (true or false each)")
    for key, value in settings.items():
        if key not in DEFAULTS:
            raise BadInput(f"{str(key)[:64]}: unknown preference (known: {', '.join(DEFAULTS)})")
        if not isinstance(value, bool):
            raise BadInput(f"{key}: must be true or false, not {str(value)[:32]!r}")
    return dict(settings)


def tenant_of(scope: Scope) -> int | None:
    """The tenant whose defaults a reviewer of ``scope`` gets: their only one, else ``default`` (module doc);
    None, the built-in defaults alone, for a token of several tenants without ``default`` (another tenant's
    settings are not theirs to read)."""
    if (only := scope.only()) is not None:
        return only
    return DEFAULT_TENANT_ID if scope.covers(DEFAULT_TENANT_ID) else None


def effective(database_url: str, reviewer: str, tenant_id: int | None) -> dict[str, bool]:
    """What the console applies for ``reviewer``: built-in defaults < tenant defaults < their own."""
    return layers(database_url, reviewer, tenant_id)["effective"]


def layers(database_url: str, reviewer: str, tenant_id: int | None) -> dict[str, dict[str, bool]]:
    """Each layer (``own``, ``tenant_defaults``) and the ``effective`` result, for the API and the console."""
    with transaction(database_url) as s:
        own = s.get(ReviewerPreferences, reviewer)
        tenant = s.get(TenantReviewDefaults, tenant_id) if tenant_id is not None else None
        own_settings, tenant_settings = _known(own.settings if own else {}), _known(tenant.settings if tenant else {})
    return {"own": own_settings, "tenant_defaults": tenant_settings,
            "effective": {**DEFAULTS, **tenant_settings, **own_settings}}


def _known(stored: dict[str, Any]) -> dict[str, bool]:
    """Stored settings, keeping only known keys with booleans (a key retired later is ignored, not an error)."""
    return {k: v for k, v in (stored or {}).items() if k in DEFAULTS and isinstance(v, bool)}


def set_own(database_url: str, reviewer: str, settings: dict[str, Any]) -> dict[str, bool]:
    """Replace ``reviewer``'s own settings (a key left out follows the tenant's default); what is stored."""
    settings = check(settings)
    with transaction(database_url) as s:
        row = s.get(ReviewerPreferences, reviewer)
        if row is None:
            s.add(ReviewerPreferences(reviewer=reviewer, settings=settings, updated_at=utcnow()))
        else:
            row.settings, row.updated_at = settings, utcnow()
    return settings


def tenant_defaults(database_url: str, tenant_id: int, *, scope: Scope) -> dict[str, Any]:
    """A tenant's defaults as set (NotFound for a tenant outside ``scope``, as for a missing one)."""
    if not scope.covers(tenant_id):
        raise NotFound(f"no tenant {tenant_id}")
    with transaction(database_url) as s:
        row = s.get(TenantReviewDefaults, tenant_id)
        return _defaults_view(row)


def set_tenant_defaults(database_url: str, tenant_id: int, settings: dict[str, Any], actor: str, *,
                        admin: bool, scope: Scope) -> dict[str, Any]:
    """Replace the tenant's defaults: an admin acting for that tenant only (another tenant: NotFound; not an
    admin: PermissionError). Audited (``review_defaults``, the tenant's, with the settings as the reason)."""
    if not scope.covers(tenant_id):
        raise NotFound(f"no tenant {tenant_id}")
    if not admin:
        raise PermissionError("only an admin of the tenant sets its reviewers' defaults")
    settings = check(settings)
    with transaction(database_url) as s:
        row = s.get(TenantReviewDefaults, tenant_id)
        if row is None:
            row = TenantReviewDefaults(tenant_id=tenant_id, settings=settings, updated_by=actor, updated_at=utcnow())
            s.add(row)
        else:
            row.settings, row.updated_by, row.updated_at = settings, actor, utcnow()
        s.add(AuditEvent(actor=actor, action=AuditAction.REVIEW_DEFAULTS, tenant_id=tenant_id,
                         reason="reviewer defaults: " + (", ".join(f"{k}={str(v).lower()}"
                                                                   for k, v in settings.items()) or "built-in")))
        s.flush()
        return _defaults_view(row)


def _defaults_view(row: TenantReviewDefaults | None) -> dict[str, Any]:
    settings = _known(row.settings) if row else {}
    return {"settings": settings, "effective": {**DEFAULTS, **settings},
            "updated_by": row.updated_by if row else None,
            "updated_at": iso(row.updated_at) if row else None}



def of_token(database_url: str, token_id: int) -> tuple[str, int | None]:
    """The reviewer a token is (its actor) and the tenant whose defaults it gets, for ``modq review prefs``."""
    with transaction(database_url) as s:
        row = s.get(ApiToken, token_id)
        if row is None:
            raise NotFound(f"no token {token_id} (`modq tokens list` shows them)")
        principal = Principal(row.id, row.name, row.role,
                              Scope(tenant_ids=frozenset(row.tenant_ids or ()), all=bool(row.all_tenants)))
    return principal.actor, tenant_of(principal.scope)


def changed(settings: dict[str, bool], assignments: list[str]) -> dict[str, bool]:
    """``settings`` with ``key=true|false`` assignments applied (``key=default``: the setting is removed, the
    layer below decides), as ``modq review prefs --set`` takes them."""
    result = dict(settings)
    for assignment in assignments:
        key, _, value = assignment.partition("=")
        key, value = key.strip(), value.strip().lower()
        if key not in DEFAULTS:
            raise BadInput(f"{key[:64]}: unknown preference (known: {', '.join(DEFAULTS)})")
        if value not in ("true", "false", "default"):
            raise BadInput(f"{key}: give {key}=true, {key}=false or {key}=default, not {assignment[:64]!r}")
        if value == "default":
            result.pop(key, None)
        else:
            result[key] = value == "true"
    return result
