"""A fake Amazon Rekognition endpoint for the real boto3 client (AWS JSON 1.1 over HTTP).

In tests::

    with FakeRekognition() as fake:
        fake.add_s3_object("bucket", "a.jpg", labels=[{"Name": "Explicit", "ParentName": "",
                                                        "TaxonomyLevel": 1, "Confidence": 99.0}])
        client = boto3.client("rekognition", region_name="us-east-1", endpoint_url=fake.endpoint_url,
                              aws_access_key_id="x", aws_secret_access_key="x")
        # or set AWS_ENDPOINT_URL_REKOGNITION=fake.endpoint_url

For benchmarks::

    python -m tests.fakes.rekognition_server --port 0 --latency 0.2 --quota-tps 50 --default-label "Explicit:99"

prints ``READY http://127.0.0.1:PORT`` and serves until SIGTERM/SIGINT.
Scenario, faults, counters: rekognition_state.py; video jobs: rekognition_video.py.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import signal
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from tests.fakes.rekognition_video import RekognitionVideoState

_TARGET_PREFIX = "RekognitionService."


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like AWS; every answer carries Content-Length
    server_version = "FakeRekognition/1.0"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: avoid 40 ms delayed-ACK stalls

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        if not target.startswith(_TARGET_PREFIX):
            status, payload = 400, {"__type": "UnknownOperationException", "message": f"Bad X-Amz-Target {target!r}"}
        else:
            try:
                body: Any = json.loads(raw or b"{}")
            except ValueError:
                body = None
            status, payload = self.server.fake.handle(target[len(_TARGET_PREFIX):], body)  # type: ignore[attr-defined]
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - S3 GetObject (path style), for the fake's own objects
        """The worker reads an S3 image's first bytes before Rekognition reads it in place (moderation/infra/media/s3_peek.py):
        with ``AWS_ENDPOINT_URL_S3`` pointing here, each object the fake knows is a small JPEG."""
        bucket, _, key = unquote(self.path.split("?", 1)[0]).lstrip("/").partition("/")
        fake = self.server.fake  # type: ignore[attr-defined]
        with fake.lock:
            known = (bucket, key) in fake.s3_objects or fake.accept_any_s3
        if not known:
            self._send(404, b"<Error><Code>NoSuchKey</Code><Message>no such object</Message></Error>",
                       "application/xml")
            return
        wanted = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
        first, last = (int(wanted[1]), int(wanted[2])) if wanted else (0, len(S3_BODY) - 1)
        body = S3_BODY[first:last + 1]
        extra = {"ETag": f'"{hashlib.md5(S3_BODY).hexdigest()}"'}
        if wanted:
            extra["Content-Range"] = f"bytes {first}-{first + len(body) - 1}/{len(S3_BODY)}"
        self._send(206 if wanted else 200, body, "image/jpeg", extra)

    def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


# What GetObject returns for any object the fake knows: the start of a JPEG (only its first bytes are read).
S3_BODY = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 1000


class FakeRekognition(RekognitionVideoState):
    """The fake endpoint: ``start()``/``stop()`` or ``with FakeRekognition() as fake``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tick_interval_s: float = 0.01, **settings: Any):
        super().__init__()
        self.host, self.port, self.tick_interval_s = host, port, tick_interval_s
        for name, value in settings.items():
            if not hasattr(self, name):
                raise TypeError(f"FakeRekognition has no setting {name!r}")
            setattr(self, name, value)
        self._httpd: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    @property
    def endpoint_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("FakeRekognition is not started")
        return f"http://{self.host}:{self.port}"

    def start(self) -> "FakeRekognition":
        if self._httpd is not None:
            return self
        httpd = ThreadingHTTPServer((self.host, self.port), _Handler)
        httpd.daemon_threads = True
        httpd.fake = self  # type: ignore[attr-defined]
        self._httpd, self.port = httpd, httpd.server_address[1]
        self._stopping.clear()
        self._threads = [
            threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                             name=f"fake-rekognition-{self.port}"),
            threading.Thread(target=self._tick_loop, daemon=True, name=f"fake-rekognition-ticker-{self.port}"),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _tick_loop(self) -> None:
        while not self._stopping.wait(self.tick_interval_s):
            self.tick()

    def __enter__(self) -> "FakeRekognition":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def parse_label(spec: str) -> dict[str, Any]:
    """``Name:Confidence[:ParentName[:TaxonomyLevel]]`` -> a label dict."""
    parts = spec.split(":")
    if not 2 <= len(parts) <= 4:
        raise argparse.ArgumentTypeError(f"expected Name:Confidence[:ParentName[:Level]], got {spec!r}")
    parent = parts[2] if len(parts) > 2 else ""
    level = int(parts[3]) if len(parts) > 3 else (2 if parent else 1)
    return {"Name": parts[0], "ParentName": parent, "TaxonomyLevel": level, "Confidence": float(parts[1])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.rekognition_server", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to sleep before every answer")
    parser.add_argument("--quota-tps", type=float, default=None, help="accepted calls per operation per second")
    parser.add_argument("--throttle-ratio", type=float, default=0.0)
    parser.add_argument("--server-error-ratio", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--default-label", action="append", type=parse_label, default=[],
                        help="Name:Confidence[:ParentName[:Level]]; repeatable; returned for every image")
    parser.add_argument("--accept-any-s3", action=argparse.BooleanOptionalAction, default=True,
                        help="answer unregistered S3 objects with the default labels (default: on)")
    parser.add_argument("--job-duration", type=float, default=0.0, help="seconds a video job stays IN_PROGRESS")
    parser.add_argument("--max-concurrent-jobs", type=int, default=20)
    args = parser.parse_args(argv)

    fake = FakeRekognition(host=args.host, port=args.port)
    fake.record_requests = False  # benchmarks send many large bodies
    fake.latency_s, fake.quota_tps, fake.seed = args.latency, args.quota_tps, args.seed
    fake.throttle_ratio, fake.server_error_ratio = args.throttle_ratio, args.server_error_ratio
    fake.default_labels, fake.accept_any_s3 = args.default_label, args.accept_any_s3
    fake.job_duration_s, fake.max_concurrent_jobs = args.job_duration, args.max_concurrent_jobs

    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    fake.start()
    print(f"READY {fake.endpoint_url}", flush=True)
    while not done.wait(0.5):
        pass
    fake.stop()
    with fake.lock:
        summary = {"calls": dict(fake.calls), "throttled": fake.throttled, "server_errors": fake.server_errors,
                   "max_concurrent_requests": fake.max_concurrent_requests, "shape_errors": len(fake.shape_errors)}
    print(f"STOPPED {json.dumps(summary)}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
