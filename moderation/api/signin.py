"""Console sign-in: a reviewer, senior or admin token in, an HttpOnly session cookie out."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from moderation.tenants import tokens
from moderation.api.auth import (
    CONSOLE_ROLES,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    ConsoleUser,
    check_csrf,
    runtime,
    set_cookie,
)
from moderation.api.pages import page

router = APIRouter(include_in_schema=False)
FORM_SECONDS = 1800


@router.get("/login")
def login_form(request: Request):
    return _form(request)


@router.post("/login")
def login(request: Request, token: Annotated[str, Form(max_length=256)] = "",
          csrf: Annotated[str, Form(max_length=128)] = ""):
    if not tokens.same_secret(request.cookies.get(LOGIN_COOKIE, ""), csrf):
        return _form(request, "The sign-in form expired. Try again.", 403)
    settings = runtime(request).settings
    principal = tokens.authenticate(settings.database_url, token.strip())
    if principal is None:
        return _form(request, "That token is not valid (unknown or revoked).", 401)
    if principal.role not in CONSOLE_ROLES:
        return _form(request, f"That is an {principal.role} token: sign in with a reviewer, senior or admin token.", 403)
    secret, _csrf = tokens.open_session(settings.database_url, principal, settings.api_session_hours)
    response = RedirectResponse("/", status_code=303)
    set_cookie(request, response, SESSION_COOKIE, secret, int(settings.api_session_hours * 3600))
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, user: ConsoleUser, csrf: Annotated[str, Form(max_length=128)] = ""):
    check_csrf(user, csrf)
    tokens.close_session(runtime(request).settings.database_url, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _form(request: Request, error: str | None = None, status: int = 200):
    nonce = secrets.token_urlsafe(24)
    response = page(request, "login.html", None, status, login_csrf=nonce, error=error)
    set_cookie(request, response, LOGIN_COOKIE, nonce, FORM_SECONDS)
    return response
