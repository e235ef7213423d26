"""Who is calling: bearer tokens and roles for the API; session cookie and
CSRF token for the console.

The API accepts only ``Authorization: Bearer`` (never the cookie), so a
browser session cannot be ridden into API calls; console forms carry a
per-session CSRF token on top of the SameSite cookie.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from moderation.tenants import tokens
from moderation.bootstrap import Runtime
from moderation.tenants.models import ADMIN, INGEST, REVIEWER, SENIOR
from moderation.tenants.tokens import Principal

SESSION_COOKIE = "modq_session"
LOGIN_COOKIE = "modq_login"  # double-submit token for the sign-in form (login CSRF)
CONSOLE_ROLES = (REVIEWER, SENIOR, ADMIN)

bearer = HTTPBearer(auto_error=False, scheme_name="token",
                    description="A modq token (`modq tokens create --role ingest|reviewer|senior|admin --name NAME`)")


def runtime(request: Request) -> Runtime:
    return request.app.state.rt


async def app_runtime(request: Request) -> Runtime:
    """``runtime`` as a dependency. Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def``
    one in its thread pool, a hand-off per dependency per request (benchmark 4, bench/RESULTS.md)."""
    return request.app.state.rt


def current_principal(request: Request,
                      creds: HTTPAuthorizationCredentials | None = Security(bearer)) -> Principal:
    principal = tokens.authenticate(runtime(request).settings.database_url, creds.credentials if creds else None)
    if principal is None:
        raise HTTPException(401, "a valid bearer token is required (missing, unknown or revoked)",
                            headers={"WWW-Authenticate": "Bearer"})
    return principal


def allow(*roles: str):
    """A dependency: the caller, if their role is one of ``roles`` (else 403)."""

    async def check(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in roles:
            raise HTTPException(403, f"the {principal.role} role may not do this (needs {' or '.join(roles)})")
        return principal

    return check


Ingestor = Annotated[Principal, Depends(allow(INGEST, ADMIN))]
Reader = Annotated[Principal, Depends(allow(INGEST, REVIEWER, SENIOR, ADMIN))]
Reviewer = Annotated[Principal, Depends(allow(REVIEWER, SENIOR, ADMIN))]  # a senior reviewer reviews too
Senior = Annotated[Principal, Depends(allow(SENIOR, ADMIN))]  # decides escalated items (issue 17.6)


# --- console -----------------------------------------------------------------


class SignInRequired(Exception):
    """Turned into a redirect to the sign-in page."""


def console_session(request: Request) -> tokens.Session:
    found = tokens.session(runtime(request).settings.database_url, request.cookies.get(SESSION_COOKIE))
    if found is None or found.principal.role not in CONSOLE_ROLES:
        raise SignInRequired()
    return found


ConsoleUser = Annotated[tokens.Session, Depends(console_session)]


def docs_reader(request: Request, creds: HTTPAuthorizationCredentials | None = Security(bearer)) -> Principal:
    """The OpenAPI schema and /docs: any token, or a signed-in console."""
    found = tokens.session(runtime(request).settings.database_url, request.cookies.get(SESSION_COOKIE))
    return found.principal if found else current_principal(request, creds)


class StaleForm(HTTPException):
    """A console form posted without its session's CSRF token: a 403 page that explains and offers to reload
    the form (errors.py), not JSON."""

    def __init__(self, user: tokens.Session):
        super().__init__(403, "the form's CSRF token is missing or stale: reload the page and try again")
        self.user = user


def check_csrf(user: tokens.Session, submitted: str | None) -> None:
    if not tokens.same_secret(user.csrf_token, submitted):
        raise StaleForm(user)


def cookie_secure(request: Request) -> bool:
    setting = runtime(request).settings.api_cookie_secure
    return request.url.scheme == "https" if setting == "auto" else setting == "true"


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    # Lax, not Strict: a reviewer following a link to an item from chat should
    # land signed in; every state change is a POST with the CSRF token anyway.
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax",
                        secure=cookie_secure(request), path="/")
