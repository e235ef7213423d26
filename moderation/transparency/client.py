"""A small client of the EU DSA Transparency Database API (issue 18.3): a batch store and the existing-puid check.

What it answers is a value, never an exception, for every answer the API gives and for no answer at all, so
the caller (``submission``) decides per case: ``Stored`` (201), ``Invalid`` (a batch 422 naming statements by
index: nothing stored, the API is all-or-nothing), ``Duplicates`` (a 422 naming puids already there),
``Refused`` (any other answer that surely stored nothing: 401, 3xx, other 4xx), ``Throttled`` (429 with its
Retry-After) and ``Unknown`` (5xx, a timeout, a dropped connection: it may or may not have stored).

Every request sends ``Accept: application/json`` (without it Laravel answers a validation failure with a
redirect) and never follows a redirect: existing-puid answers 302 *with no Location* when the puid is found.
The token goes in the Authorization header only; nothing here logs it, and ``repr`` does not show it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import urllib3

API = "/api/v1"
USER_AGENT = "modq-transparency/1"
_INDEX = re.compile(r"statement_(\d+)")
ERROR_TEXT = 500  # characters of an unexpected answer kept as the reason


@dataclass(frozen=True)
class Stored:
    uuids: dict[str, str]  # the database's uuid of each statement, by puid


@dataclass(frozen=True)
class Invalid:
    errors: dict[int, dict[str, Any]]  # field errors of each invalid statement, by its index in the batch


@dataclass(frozen=True)
class Duplicates:
    puids: list[str]  # already stored by this platform (an earlier attempt whose answer was lost)


@dataclass(frozen=True)
class Refused:
    status: int
    reason: str  # surely nothing stored: the batch waits (a bad token, a wrong URL) and the operator is told


@dataclass(frozen=True)
class Throttled:
    retry_after: float  # seconds (429's Retry-After)


@dataclass(frozen=True)
class Unknown:
    reason: str  # a 5xx or no answer: the batch may have been stored; ask existing-puid before resending


BatchResult = Stored | Invalid | Duplicates | Refused | Throttled | Unknown


class TransparencyClient:
    def __init__(self, base_url: str, token: str, timeout: float, pool: urllib3.PoolManager | None = None):
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json",
                         "User-Agent": USER_AGENT}
        self._timeout = urllib3.Timeout(connect=timeout, read=timeout)
        self._pool = pool or urllib3.PoolManager(retries=False)

    def __repr__(self) -> str:
        return f"TransparencyClient({self.base_url!r})"  # never the token

    @classmethod
    def of(cls, settings) -> "TransparencyClient":
        return cls(settings.dsa_tdb_url, settings.dsa_tdb_token.get_secret_value(), settings.dsa_tdb_timeout_seconds)

    def store_batch(self, statements: list[dict[str, Any]]) -> BatchResult:
        """``POST /api/v1/statements`` with 1 to 100 statement bodies."""
        body = json.dumps({"statements": statements}).encode()
        answer = self._request("POST", f"{API}/statements", body)
        if isinstance(answer, Unknown):
            return answer
        status, payload, headers = answer
        if status == 201 and isinstance(payload, dict) and isinstance(payload.get("statements"), list):
            return Stored({str(row["puid"]): str(row["uuid"]) for row in payload["statements"]
                           if isinstance(row, dict) and "puid" in row and "uuid" in row})
        if 200 <= status < 300:  # not the API's answer (a rewriting proxy?): it may have stored them
            return Unknown(f"HTTP {status} with a body that is not the API's")
        if status == 422 and isinstance(payload, dict):
            return _unprocessable(payload)
        return _other(status, payload, headers)

    def exists(self, puid: str) -> bool | BatchResult:
        """``GET /api/v1/statement/existing-puid/{puid}``: True (302 with no Location, not followed), False (404),
        or what went wrong (``Unknown``, ``Throttled``, ``Refused``)."""
        answer = self._request("GET", f"{API}/statement/existing-puid/{quote(puid, safe='')}")
        if isinstance(answer, Unknown):
            return answer
        status, payload, headers = answer
        if status == 302 and not headers.get("Location"):
            return True  # the API's "found"; a 302 elsewhere (a proxy's redirect) is no answer about the puid
        if status == 404 and isinstance(payload, dict) and payload.get("puid") == puid:
            return False  # the route's own 404, not a wrong base URL's
        return _other(status, payload, headers)

    def _request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, Any, Any] | Unknown:
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self._pool.request(method, self.base_url + path, body=body, headers=headers,
                                          timeout=self._timeout, redirect=False, retries=False)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return Unknown(f"no answer: {type(exc).__name__}")  # the message may hold the URL: kept short
        return response.status, _json(response.data), response.headers


def _json(data: bytes) -> Any:
    try:
        return json.loads(data or b"null")
    except ValueError:
        return data.decode("utf-8", "replace")[:ERROR_TEXT]


def _unprocessable(payload: dict[str, Any]) -> BatchResult:
    errors = payload.get("errors") or {}
    if isinstance(errors, dict) and isinstance(errors.get("existing_puids"), list):
        return Duplicates([str(puid) for puid in errors["existing_puids"]])
    by_index = {int(m.group(1)): fields for key, fields in (errors.items() if isinstance(errors, dict) else [])
                if (m := _INDEX.fullmatch(str(key)))}
    if by_index:
        return Invalid(by_index)
    return Refused(422, f"HTTP 422: {json.dumps(payload)[:ERROR_TEXT]}")  # the call itself (none of ours)


def _other(status: int, payload: Any, headers: Any) -> BatchResult:
    if status == 429:
        return Throttled(_retry_after(headers.get("Retry-After")))
    if status >= 500:
        return Unknown(f"HTTP {status}")
    text = payload if isinstance(payload, str) else json.dumps(payload)
    hint = " (redirects are not followed)" if 300 <= status < 400 else ""
    return Refused(status, f"HTTP {status}{hint}: {text[:ERROR_TEXT]}")


def _retry_after(value: str | None, default: float = 60.0) -> float:
    """Retry-After in seconds (the API sends seconds; an HTTP date or nonsense waits ``default``)."""
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default
