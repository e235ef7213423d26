"""modq's Celery app with an image provider that misuses memory the way large items do.
Only tests start it: ``celery -A tests.fakes.oom_worker worker -P prefork ...`` with
``MODQ_TEST_OOM`` set to

- ``die``: every call SIGKILLs its own pool process, as the OOM killer does to a worker decoding a
  decompression bomb (issue 12: a 389 KB PNG got its worker killed 48 times in 100 s, each time
  redelivered); tests/integration/faults/test_worker_killed.py;
- ``hoard``: every call keeps ``MODQ_TEST_HOARD_MB`` (default 300) MiB resident after it returns, as a
  decoder's buffers that are never given back to the OS, then answers as the real provider does;
  tests/integration/faults/test_worker_memory.py.

Each call first appends its process id to the file named by ``MODQ_TEST_CALLS``, so a test can
tell how many deliveries reached the provider and in which pool processes.
"""

from __future__ import annotations

import os
import signal

from moderation import bootstrap as runtime
from worker.app import app

MODE = os.environ["MODQ_TEST_OOM"]
CALLS = os.environ["MODQ_TEST_CALLS"]
HOARD_BYTES = int(os.environ.get("MODQ_TEST_HOARD_MB", "300")) * 1024 * 1024
_hoard: list[bytes] = []
_real_provider = runtime._bare_provider

if MODE not in ("die", "hoard"):
    raise SystemExit(f"MODQ_TEST_OOM={MODE!r}: expected die or hoard")


def _note_call() -> None:
    with open(CALLS, "a") as fh:
        fh.write(f"{os.getpid()}\n")


def _misbehaving_provider(settings):
    provider = _real_provider(settings)  # the real one, so everything around the call is as in production
    analyze_image = provider.analyze_image

    def misbehave(image, min_confidence):
        _note_call()
        if MODE == "die":
            os.kill(os.getpid(), signal.SIGKILL)
        _hoard.append(b"\x01" * HOARD_BYTES)  # written, so resident (a zeroed allocation may not be)
        return analyze_image(image, min_confidence)

    provider.analyze_image = misbehave
    return provider


runtime._bare_provider = _misbehaving_provider

__all__ = ["app"]
