"""A fake EU DSA Transparency Database API (issue 18) for modq's tests.

    with FakeTransparencyDatabase(token="t") as tdb:
        httpx.post(f"{tdb.url}/api/v1/statement", json=statement,
                   headers={"Authorization": "Bearer t", "Accept": "application/json"})
        tdb.statements["TK421"]          # what was stored, by puid
        tdb.fail_next(2, status=503)     # an outage of the next 2 requests
        tdb.rate_limit(1, retry_after=3) # 429 + Retry-After for the next request
        tdb.crash_after_store()          # the next store is saved, then the connection drops unanswered

It answers as the real one does (https://github.com/digital-services-act/transparency-database, commit
69e80a0bc8eb3cbfbe8246e898194c3bdf490a4b; routes/api_v1.php, StatementAPIController, StatementMultipleAPIController,
PlatformUniqueIdService, the PuidNotUnique*Exception classes, App\\Http\\Middleware\\Authenticate,
RouteServiceProvider's "api" rate limiter), validating with :mod:`tests.fakes.transparency_rules`:

* ``POST /api/v1/statement`` -> 201 with the statement as stored (plus uuid, id, created_at, platform_name,
  permalink, self, puid); invalid -> 422 ``{"message": summary, "errors": {field: [..]}}``; a puid this platform
  already used -> 422 ``{"message": "The identifier given is not unique within this platform.",
  "errors": {"puid": [same]}, "existing": {"puid": puid}}``.
* ``POST /api/v1/statements`` (``{"statements": [...]}``, 1 to 100) -> 201 ``{"statements": [...]}``; no
  ``statements`` / not an array / more than 100 -> 422 ``{"message", "errors": {"statements": [..]}}``; any invalid
  statement -> 422 ``{"errors": {"statement_<index>": {field: [..]}}}`` (no "message"), and *none* is stored;
  a puid repeated in the call or already used -> 422 ``{"message": "The platform identifier(s) are not all unique
  within this call.", "errors": {"puid": [same], "existing_puids": [puids]}}``, none stored.
* ``GET /api/v1/statement/existing-puid/{puid}`` -> 302 (no Location) ``{"message": "statement of reason found",
  "puid"}`` or 404 ``{"message": "statement of reason not found", "puid"}``.
* No or wrong ``Authorization: Bearer`` -> 401 ``{"message": "Unauthenticated."}`` (JSON whatever the Accept).
* Laravel only answers validation failures (the 422s with a summary "message") in JSON when the request "expects
  JSON" (first Accept type contains /json or +json, or X-Requested-With: XMLHttpRequest); otherwise it redirects
  back: 302 to the Referer or to ``/``. Mirrored when ``strict_accept`` (default): send ``Accept: application/json``.
* Rate limit (200/s, 12000/min per user on the real one): 429, ``text/html`` body "Limit Reached. Please do not
  overload the API", headers Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset.
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.fakes.transparency_rules import (
    EUROPEAN_COUNTRY_CODES,
    summarize,
    validate_statement_full,
    validate_statements_payload,
)

API = "/api/v1"
PUID_NOT_UNIQUE_SINGLE = "The identifier given is not unique within this platform."
PUID_NOT_UNIQUE_MULTIPLE = "The platform identifier(s) are not all unique within this call."
RATE_LIMIT_BODY = "Limit Reached. Please do not overload the API"

_DATE_FIELDS = ("application_date", "content_date", "end_date_monetary_restriction",
                "end_date_visibility_restriction", "end_date_account_restriction", "end_date_service_restriction")
# GroupedSubmissionsService::initOptionalFields(), in the multiple endpoint's answer
_MULTI_OPTIONAL = ("decision_visibility_other", "decision_monetary", "decision_monetary_other", "decision_provision",
                   "decision_account", "account_type", "decision_ground_reference_url", "content_type_other",
                   "category_specification_other", "incompatible_content_ground", "incompatible_content_explanation",
                   "incompatible_content_illegal", "content_language", "end_date_account_restriction",
                   "end_date_monetary_restriction", "end_date_service_restriction", "end_date_visibility_restriction",
                   "source_type", "source_identity", "content_date", "illegal_content_explanation",
                   "illegal_content_legal_ground")
_MULTI_ARRAYS = ("decision_visibility", "category_addition", "category_specification", "content_type",
                 "territorial_scope")


def _countries(values: Any) -> list[str]:
    """EuropeanCountriesService::filterSortEuropeanCountries()."""
    items = values.values() if isinstance(values, dict) else values if isinstance(values, list) else []
    return sorted({item for item in items if item in EUROPEAN_COUNTRY_CODES})


def _unique_sorted(values: Any) -> list[Any]:
    items = list(values.values()) if isinstance(values, dict) else list(values)
    return sorted(set(items), key=str)


class Response:
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
                 content_type: str = "application/json", drop: bool = False):
        self.status, self.body, self.headers, self.content_type, self.drop = status, body, headers or {}, content_type, drop


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeTransparencyDatabase/1.0"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:  # noqa: N802
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._serve("PUT")

    def _serve(self, method: str) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake: FakeTransparencyDatabase = self.server.fake  # type: ignore[attr-defined]
        response = fake.handle(method, self.path, dict(self.headers.items()), raw)
        if response.drop:
            self.close_connection = True  # stored, but the client never hears back
            return
        if isinstance(response.body, (bytes, str)):
            data = response.body.encode() if isinstance(response.body, str) else response.body
        else:
            data = json.dumps(response.body).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class FakeTransparencyDatabase:
    """The fake API: ``start()``/``stop()`` or ``with FakeTransparencyDatabase(token="t") as tdb``."""

    def __init__(self, token: str = "test-token", *, platform_name: str = "modq test platform",
                 host: str = "127.0.0.1", port: int = 0, strict_accept: bool = True):
        self.token, self.platform_name, self.host, self.port = token, platform_name, host, port
        self.strict_accept = strict_accept
        self.lock = threading.Lock()
        self.statements: dict[str, dict[str, Any]] = {}  # by puid, as stored (the platform's puids)
        self.requests: list[dict[str, Any]] = []  # {"method", "path", "status"} (status None when dropped)
        self._next_id = 1
        self._failures: list[tuple[int, Any, dict[str, str]]] = []
        self._rate_limited = 0
        self._retry_after = 1
        self._crashes = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        """The base URL (the real one: https://transparency.dsa.ec.europa.eu); the API is under /api/v1."""
        if self._httpd is None:
            raise RuntimeError("FakeTransparencyDatabase is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return self.url + API

    def start(self) -> "FakeTransparencyDatabase":
        if self._httpd is not None:
            return self
        httpd = ThreadingHTTPServer((self.host, self.port), _Handler)
        httpd.daemon_threads = True
        httpd.fake = self  # type: ignore[attr-defined]
        self._httpd, self.port = httpd, httpd.server_address[1]
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                                        name=f"fake-transparency-db-{self.port}")
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "FakeTransparencyDatabase":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- test controls

    @property
    def request_count(self) -> int:
        with self.lock:
            return len(self.requests)

    def fail_next(self, n: int = 1, status: int = 503, body: Any = None, headers: dict[str, str] | None = None) -> None:
        """The next ``n`` requests (any endpoint, before authentication) get ``status``: an outage."""
        if body is None:
            body = "<html><body><h1>Service Unavailable</h1></body></html>"
        with self.lock:
            self._failures.extend([(status, body, headers or {})] * n)

    def rate_limit(self, n: int = 1, retry_after: int = 1) -> None:
        """The next ``n`` authenticated requests get 429 with ``Retry-After: retry_after`` (seconds)."""
        with self.lock:
            self._rate_limited += n
            self._retry_after = retry_after

    def crash_after_store(self, n: int = 1) -> None:
        """The next ``n`` successful stores (single or multiple) are saved, then the connection is closed without an
        answer: the client cannot know, and must ask existing-puid before sending again."""
        with self.lock:
            self._crashes += n

    def preload(self, *puids: str) -> None:
        """Mark puids as already used by this platform (e.g. by an earlier run)."""
        with self.lock:
            for puid in puids:
                self.statements.setdefault(puid, {"puid": puid})

    # ---------------------------------------------------------------- dispatch

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Response:
        path = urlsplit(target).path
        lowered = {name.lower(): value for name, value in headers.items()}
        with self.lock:
            record: dict[str, Any] = {"method": method, "path": path, "status": None}
            self.requests.append(record)
            if self._failures:
                status, body, headers = self._failures.pop(0)
                response = Response(status, body, headers, content_type="text/html; charset=UTF-8")
            else:
                response = self._route(method, path, lowered, raw)
            record["status"] = None if response.drop else response.status
            return response

    def _route(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Response:
        if headers.get("authorization", "") != f"Bearer {self.token}":
            return Response(401, {"message": "Unauthenticated."})
        if self._rate_limited:
            self._rate_limited -= 1
            reset = int(time.time()) + self._retry_after
            return Response(429, RATE_LIMIT_BODY, content_type="text/html; charset=UTF-8", headers={
                "Retry-After": str(self._retry_after), "X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(reset)})
        body = self._json_body(headers, raw)
        if method == "POST" and path == f"{API}/statement":
            return self._store_one(body, headers)
        if method == "POST" and path == f"{API}/statements":
            return self._store_many(body, headers)
        prefix = f"{API}/statement/existing-puid/"
        if method == "GET" and path.startswith(prefix) and "/" not in path[len(prefix):] and path[len(prefix):]:
            return self._existing_puid(unquote(path[len(prefix):]))
        if method == "GET" and path.startswith(f"{API}/statement/") and path.count("/") == 4:
            return self._show(unquote(path.rsplit("/", 1)[1]))
        return Response(404, {"message": f"The route {path.lstrip('/')} could not be found."})

    @staticmethod
    def _json_body(headers: dict[str, str], raw: bytes) -> Any:
        content_type = headers.get("content-type", "").lower()
        if "/json" not in content_type and "+json" not in content_type:
            return {}  # Laravel reads a non-JSON body as form fields: none of ours
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return {}  # invalid JSON: an empty input bag, so "required" errors

    def _expects_json(self, headers: dict[str, str]) -> bool:
        if not self.strict_accept:
            return True
        accept = headers.get("accept", "")
        first = accept.split(",")[0].split(";")[0].strip().lower() if accept else ""
        ajax = headers.get("x-requested-with", "") == "XMLHttpRequest"
        return ("/json" in first or "+json" in first) or (ajax and first in ("", "*/*", "*"))

    def _validation_failed(self, errors: dict[str, list[str]], headers: dict[str, str]) -> Response:
        if not self._expects_json(headers):  # Laravel: redirect()->back() with the errors in the session
            location = headers.get("referer") or self.url + "/"
            return Response(302, f'<meta http-equiv="refresh" content="0;url={location}" />',
                            content_type="text/html; charset=UTF-8", headers={"Location": location})
        return Response(422, {"message": summarize(errors), "errors": errors})

    # ---------------------------------------------------------------- endpoints

    def _links(self, statement_uuid: str) -> dict[str, str]:
        return {"permalink": f"{self.url}/statement/{statement_uuid}",
                "self": f"{self.url}{API}/statement/{statement_uuid}"}

    def _crash_now(self) -> bool:
        if self._crashes:
            self._crashes -= 1
            return True
        return False

    def _store_one(self, body: Any, headers: dict[str, str]) -> Response:
        errors, validated = validate_statement_full(body)
        if errors:
            return self._validation_failed(errors, headers)
        # StatementAPIController::store() + Sanitizer::sanitizeData()
        for name in _DATE_FIELDS:
            validated[name] = validated.get(name)
        validated["territorial_scope"] = _countries(validated.get("territorial_scope") or [])
        validated["content_type"] = _unique_sorted(validated["content_type"])
        for name in ("decision_visibility", "category_specification"):
            if validated.get(name) is not None:
                validated[name] = _unique_sorted(validated[name])
        if validated.get("category_addition") is not None:
            additions = validated["category_addition"]
            additions = additions.values() if isinstance(additions, dict) else additions
            validated["category_addition"] = [item for item in additions if item != validated["category"]]
        content_id = validated.get("content_id")
        if validated.get("content_id_ean") is None and isinstance(content_id, dict) and "EAN-13" in content_id:
            validated["content_id_ean"] = content_id["EAN-13"]
        puid = str(validated["puid"])
        if puid in self.statements:
            return Response(422, {"message": PUID_NOT_UNIQUE_SINGLE, "errors": {"puid": [PUID_NOT_UNIQUE_SINGLE]},
                                  "existing": {"puid": puid}})
        statement_uuid = str(uuid.uuid4())
        stored = {key: value for key, value in validated.items() if key != "puid"}
        stored.update({"uuid": statement_uuid, "created_at": self._now(), "id": self._take_id(),
                       "platform_name": self.platform_name, **self._links(statement_uuid), "puid": puid})
        self.statements[puid] = stored
        if self._crash_now():
            return Response(0, drop=True)
        return Response(201, stored)

    def _store_many(self, body: Any, headers: dict[str, str]) -> Response:
        payload_errors = validate_statements_payload(body)
        if payload_errors:
            return self._validation_failed(payload_errors, headers)
        statements = body["statements"]
        items = list(statements.items()) if isinstance(statements, dict) else list(enumerate(statements))
        errors: dict[str, dict[str, list[str]]] = {}
        accepted: list[dict[str, Any]] = []
        for index, statement in items:
            if not isinstance(statement, dict):  # Validator::make() with a non-array: a PHP TypeError
                return Response(500, {"message": "Server Error"})
            statement_errors, validated = validate_statement_full(statement, multi=True)
            if statement_errors:
                errors[f"statement_{index}"] = statement_errors
            validated["territorial_scope"] = _countries(validated.get("territorial_scope") or [])
            accepted.append(validated)
        if errors:  # answered as JSON whatever the Accept header
            return Response(422, {"errors": errors})
        puids = [str(item["puid"]) for item in accepted]
        repeated = [puid for puid in dict.fromkeys(puids) if puids.count(puid) > 1]
        existing = repeated or [puid for puid in puids if puid in self.statements]
        if existing:
            return Response(422, {"message": PUID_NOT_UNIQUE_MULTIPLE,
                                  "errors": {"puid": [PUID_NOT_UNIQUE_MULTIPLE], "existing_puids": existing}})
        now, out = self._now(), []
        for item in accepted:  # GroupedSubmissionsService::buildOutputJsonResponse()
            row = dict(item)
            content_id = row.pop("content_id", None)
            row["content_id_ean"] = content_id.get("EAN-13") if isinstance(content_id, dict) else None
            for name in _MULTI_ARRAYS:
                row[name] = row.get(name) if row.get(name) is not None else []
            for name in _MULTI_OPTIONAL:
                row[name] = row.get(name)
            statement_uuid = str(uuid.uuid4())
            row.update({"uuid": statement_uuid, "platform_name": self.platform_name, "created_at": now,
                        **self._links(statement_uuid)})
            row["puid"] = str(row["puid"])
            self.statements[row["puid"]] = {**row, "id": self._take_id()}
            out.append(row)
        if self._crash_now():
            return Response(0, drop=True)
        return Response(201, {"statements": out})

    def _existing_puid(self, puid: str) -> Response:
        if puid in self.statements:
            return Response(302, {"message": "statement of reason found", "puid": puid})
        return Response(404, {"message": "statement of reason not found", "puid": puid})

    def _show(self, statement_uuid: str) -> Response:
        for stored in self.statements.values():
            if stored.get("uuid") == statement_uuid:
                return Response(200, {key: value for key, value in stored.items() if key not in ("id", "puid")})
        return Response(404, {"message": "No query results for model [App\\Models\\Statement]."})

    # ---------------------------------------------------------------- helpers

    def _take_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    @staticmethod
    def _now() -> str:
        return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
