"""ASGI middleware: request body size limit and security headers."""

from __future__ import annotations

import json

BODY_METHODS = {"POST", "PUT", "PATCH"}


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413 before the app reads them.

    The body is read here (it is small by definition) and replayed to the app,
    so a chunked upload without Content-Length is cut off just the same.
    """

    def __init__(self, app, max_bytes: int, paths: dict[str, tuple[int, str]] | None = None):
        # paths: a path with a limit of its own -> (its limit, the setting that sets it)
        self.app, self.max_bytes, self.paths = app, max_bytes, paths or {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            return await self.app(scope, receive, send)
        max_bytes, setting = self.paths.get(scope["path"], (self.max_bytes, "MODQ_API_MAX_BODY_BYTES"))
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            return await self._too_large(send, max_bytes, setting)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > max_bytes:
                return await self._too_large(send, max_bytes, setting)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()  # e.g. http.disconnect
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, send, max_bytes: int, setting: str):
        message = f"request body is over the limit of {max_bytes} bytes ({setting})"
        body = json.dumps({"detail": message, "message": message}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),  # item ids and presigned URLs stay here
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Headers every response gets; the console adds its CSP per page."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
