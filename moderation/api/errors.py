"""Errors as JSON with a human-readable ``message``; never a 500 for bad input."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException

from moderation.api import pages
from moderation.api.auth import SignInRequired, StaleForm
from moderation.api.review_context import retry_url
from moderation.domain.errors import BadInput
from moderation.review.services import Conflict, NotFound


def problem(status: int, detail, message: str | None = None, headers=None) -> JSONResponse:
    return JSONResponse({"detail": jsonable_encoder(detail), "message": message or str(detail)}, status, headers)


def validation_message(errors: list[dict]) -> str:
    parts = []
    for error in errors[:10]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


JSON_HINT = "send a JSON object, with Content-Type: application/json"
JSON_KINDS = {list: "an array", str: "a string", bool: "true or false", int: "a number", float: "a number",
              type(None): "null"}


def body_message(error: dict[str, Any], body: Any, content_type: str | None) -> str | None:
    """What is wrong with a request body as a whole, for a person (FastAPI says "0: JSON decode error");
    None when the error is about a field in it."""
    kind, loc = error.get("type"), tuple(error.get("loc", ()))
    if kind == "json_invalid":  # the body parsed as JSON, and is not JSON: say where, as json.loads would
        doc = body if isinstance(body, str) else ""
        pos = loc[-1] if doc and isinstance(loc[-1], int) else 0
        where = json.JSONDecodeError((error.get("ctx") or {}).get("error", "invalid"), doc, pos)
        return f"the request body is not valid JSON: {where}"
    if loc != ("body",):
        return None
    if kind == "missing":
        return f"the request body is empty: {JSON_HINT}"
    if kind == "model_attributes_type":
        if isinstance(body, (bytes, bytearray)):  # not read as JSON: its content type says something else
            return f"the request body was not sent as JSON (Content-Type: {content_type or 'none'}): {JSON_HINT}"
        return f"the request body is {JSON_KINDS.get(type(body), 'not an object')}, not a JSON object: {JSON_HINT}"
    return None


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        raw = list(exc.errors())
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in raw]
        kind = request.headers.get("content-type")
        whole = next((m for m in (body_message(e, exc.body, kind) for e in raw) if m), None)
        return problem(422, errors, whole or validation_message(errors))

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException):
        return problem(exc.status_code, exc.detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(BadInput)  # RefusedSubmission included: the message says what to fix
    async def _bad_input(_request: Request, exc: BadInput):
        return problem(422, str(exc))

    @app.exception_handler(NotFound)
    async def _not_found(_request: Request, exc: NotFound):
        return problem(404, str(exc))

    @app.exception_handler(Conflict)
    async def _conflict(_request: Request, exc: Conflict):
        return problem(409, str(exc))

    @app.exception_handler(StaleForm)  # a page that explains and offers to reload the form, not JSON
    async def _stale_form(request: Request, exc: StaleForm):
        return pages.page(request, "stale_form.html", exc.user, 403, retry=retry_url(request.url.path))

    @app.exception_handler(SignInRequired)
    async def _sign_in(_request: Request, _exc: SignInRequired):
        return RedirectResponse("/login", status_code=303)
