"""Reviewer preferences (issue 17.8-9) over the API and in the console.

``GET|PUT /v1/review/preferences``: the caller's own (reviewer roles). ``GET|PUT
/v1/tenants/{tenant}/review-defaults``: a tenant's defaults (an admin acting for that tenant; another tenant is
404, as a missing one). The console's ``/preferences`` page saves the same settings with a form (CSRF), and
every console page gets the effective ones (pages.py) so the item page and console.js apply them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from moderation.api import schemas, tenancy
from moderation.api.auth import ConsoleUser, Reviewer, allow, check_csrf, runtime
from moderation.api.pages import page
from moderation.bootstrap import Runtime
from moderation.review import preferences
from moderation.review.services import NotFound
from moderation.tenants import services as tenants
from moderation.tenants.models import ADMIN
from moderation.tenants.tokens import Principal

router = APIRouter(tags=["review"])
Rt = Annotated[Runtime, Depends(runtime)]
Admin = Annotated[Principal, Depends(allow(ADMIN))]
TenantName = Annotated[str, Path(max_length=63, description="The tenant, by name")]
NOT_FOUND = {404: {"model": schemas.Problem, "description": "No such tenant among the token's tenants"}}


class PreferencesIn(BaseModel):
    """Each preference true or false; left out (or null): follow the tenant's default."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"blur_by_default": True, "grayscale_after_reveal": True, "video_muted": True, "shortcuts": False}]})

    blur_by_default: StrictBool | None = Field(None, description="Flagged media starts blurred (default true)")
    grayscale_after_reveal: StrictBool | None = Field(None, description="Revealed media in grayscale (default false)")
    video_muted: StrictBool | None = Field(None, description="Videos start muted (default true)")
    shortcuts: StrictBool | None = Field(None, description="Single-key shortcuts fire (default true; WCAG 2.1.4)")

    def settings(self) -> dict[str, bool]:
        return self.model_dump(exclude_none=True)


class PreferencesOut(BaseModel):
    own: dict[str, bool] = Field(description="What you set")
    tenant_defaults: dict[str, bool] = Field(description="What your tenant's admin set (module doc: which tenant)")
    effective: dict[str, bool] = Field(description="What the console applies: built-in < tenant < own")


class DefaultsOut(BaseModel):
    tenant: str
    settings: dict[str, bool] = Field(description="What the admin set")
    effective: dict[str, bool] = Field(description="What a reviewer with no settings of their own gets")
    updated_by: str | None
    updated_at: str | None


def _own(rt: Runtime, principal: Principal) -> dict:
    return preferences.layers(rt.settings.database_url, principal.actor, preferences.tenant_of(principal.scope))


@router.get("/v1/review/preferences", response_model=PreferencesOut, operation_id="getPreferences")
def get_own(principal: Reviewer, rt: Rt):
    """Your console preferences: yours, your tenant's defaults, and the result. A token for several tenants
    gets the `default` tenant's defaults."""
    return _own(rt, principal)


@router.put("/v1/review/preferences", response_model=PreferencesOut, operation_id="setPreferences")
def put_own(body: PreferencesIn, principal: Reviewer, rt: Rt):
    """Replace your own preferences; a preference left out follows your tenant's default."""
    preferences.set_own(rt.settings.database_url, principal.actor, body.settings())
    return _own(rt, principal)


def _tenant(rt: Runtime, principal: Principal, name: str) -> int:
    """The tenant named, if the token acts for it; else 404, as for a tenant that does not exist."""
    return tenancy.named(rt, principal, name, missing=NotFound)


@router.get("/v1/tenants/{tenant}/review-defaults", response_model=DefaultsOut, operation_id="getReviewDefaults",
            responses=NOT_FOUND)
def get_defaults(tenant: TenantName, principal: Admin, rt: Rt):
    """The tenant's default reviewer preferences (admins of the tenant)."""
    tenant_id = _tenant(rt, principal, tenant)
    return {"tenant": tenant, **preferences.tenant_defaults(rt.settings.database_url, tenant_id,
                                                            scope=principal.scope)}


@router.put("/v1/tenants/{tenant}/review-defaults", response_model=DefaultsOut, operation_id="setReviewDefaults",
            responses=NOT_FOUND)
def put_defaults(tenant: TenantName, body: PreferencesIn, principal: Admin, rt: Rt):
    """Replace the tenant's default reviewer preferences (a reviewer's own settings still win). Audited
    (`review_defaults`)."""
    tenant_id = _tenant(rt, principal, tenant)
    view = preferences.set_tenant_defaults(rt.settings.database_url, tenant_id, body.settings(), principal.actor,
                                           admin=principal.is_admin, scope=principal.scope)
    return {"tenant": tenant, **view}


# --- console ------------------------------------------------------------------

Csrf = Annotated[str, Form(max_length=128)]
Flag = Annotated[str | None, Form(max_length=8)]  # a checkbox: present ("on") or absent


def _form_settings(blur_by_default, grayscale_after_reveal, video_muted, shortcuts) -> dict[str, bool]:
    return {"blur_by_default": bool(blur_by_default), "grayscale_after_reveal": bool(grayscale_after_reveal),
            "video_muted": bool(video_muted), "shortcuts": bool(shortcuts)}


def _page(request: Request, user, notice: str | None = None, error: str | None = None, status: int = 200):
    rt, principal = runtime(request), user.principal
    tenant_id = preferences.tenant_of(principal.scope)
    defaults = None
    if principal.is_admin and tenant_id is not None and principal.covers(tenant_id):
        defaults = {"tenant": tenants.names(rt.settings.database_url).get(tenant_id, str(tenant_id)),
                    **preferences.tenant_defaults(rt.settings.database_url, tenant_id, scope=principal.scope)}
    return page(request, "preferences.html", user, status, layers=_own(rt, principal), defaults=defaults,
                notice=notice, error=error, descriptions=preferences.DESCRIPTIONS)


@router.get("/preferences", include_in_schema=False)
def preferences_page(request: Request, user: ConsoleUser, saved: Literal["own", "tenant"] | None = None):
    return _page(request, user, saved)


@router.post("/preferences", include_in_schema=False)
def save_own(request: Request, user: ConsoleUser, csrf: Csrf = "", blur_by_default: Flag = None,
             grayscale_after_reveal: Flag = None, video_muted: Flag = None, shortcuts: Flag = None):
    check_csrf(user, csrf)
    preferences.set_own(runtime(request).settings.database_url, user.principal.actor,
                        _form_settings(blur_by_default, grayscale_after_reveal, video_muted, shortcuts))
    return RedirectResponse("/preferences?saved=own", status_code=303)


@router.post("/preferences/tenant", include_in_schema=False)
def save_tenant(request: Request, user: ConsoleUser, csrf: Csrf = "", blur_by_default: Flag = None,
                grayscale_after_reveal: Flag = None, video_muted: Flag = None, shortcuts: Flag = None):
    """The admin's tenant's defaults (the tenant whose defaults they get themselves)."""
    check_csrf(user, csrf)
    principal = user.principal
    if not principal.is_admin:
        return _page(request, user, error="Only an admin sets the tenant's defaults.", status=403)
    try:
        preferences.set_tenant_defaults(runtime(request).settings.database_url,
                                        preferences.tenant_of(principal.scope),
                                        _form_settings(blur_by_default, grayscale_after_reveal, video_muted, shortcuts),
                                        principal.actor, admin=True, scope=principal.scope)
    except NotFound:  # an admin of several tenants, not the default one: PUT /v1/tenants/{tenant}/review-defaults
        return _page(request, user, error="Set your tenants' defaults with PUT /v1/tenants/{tenant}/review-defaults.",
                     status=404)
    return RedirectResponse("/preferences?saved=tenant", status_code=303)
