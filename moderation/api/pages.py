"""Server-rendered console pages: templates, headers, small display filters."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from moderation.api import review_context
from moderation.review import preferences
from moderation.tenants import tokens

TEMPLATES = Path(__file__).resolve().parent / "templates"
# No inline script or style anywhere: data reaches console.js in data-* attributes.
# Images and video may come from a presigned S3 URL, hence img/media-src *.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' * data: blob:; "
       "media-src 'self' * blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")

templates = Jinja2Templates(directory=TEMPLATES)  # autoescape on: every value is escaped


def ago(value: str | None) -> str:
    """'3h 12m' since an ISO time."""
    if not value:
        return ""
    seconds = int((datetime.now(timezone.utc) - datetime.fromisoformat(value)).total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)}s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if days:
        return f"{days}d {hours % 24}h"
    return f"{hours}h {minutes % 60}m" if hours else f"{minutes}m"


templates.env.filters["ago"] = ago
templates.env.filters["as_text"] = review_context.as_text  # item metadata as plain, escaped text
templates.env.globals["label_options"] = review_context.LABEL_OPTIONS  # the queue's label dropdown


def page(request: Request, name: str, user: tokens.Session | None, status: int = 200, **context):
    values = {"user": user.principal if user else None, "csrf": user.csrf_token if user else "",
              "prefs": _preferences(request, user), **context}
    response = templates.TemplateResponse(request, name, values, status_code=status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    return response


def _preferences(request: Request, user: tokens.Session | None) -> dict[str, bool]:
    """The signed-in reviewer's effective preferences (issue 17.8-9): base.html and item.html apply them."""
    if user is None:
        return preferences.DEFAULTS
    principal = user.principal
    return preferences.effective(request.app.state.rt.settings.database_url, principal.actor,
                                 preferences.tenant_of(principal.scope))
