"""Errors as JSON with a human-readable ``message``; never a 500 for bad input."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException

from moderation.api.auth import SignInRequired
from moderation.domain.errors import BadInput
from moderation.review.services import Conflict, NotFound


def problem(status: int, detail, message: str | None = None, headers=None) -> JSONResponse:
    return JSONResponse({"detail": jsonable_encoder(detail), "message": message or str(detail)}, status, headers)


def _validation_message(errors: list[dict]) -> str:
    parts = []
    for error in errors[:10]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError):
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return problem(422, errors, _validation_message(errors))

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

    @app.exception_handler(SignInRequired)
    async def _sign_in(_request: Request, _exc: SignInRequired):
        return RedirectResponse("/login", status_code=303)
