"""Child process for the decode-budget tests: moderate one media file through the real use case and
report the item's outcome and the process's peak RSS growth while doing it.

    python -m tests.decode_child <database_url> <media_root> <file name> <image|video> <local|bytes>

``local`` is the offline provider (NudeNet, decodes the pixels); ``bytes`` is a provider that only
sends the prepared bytes, as Rekognition does (the fake stands in for the network call only).
Prints one JSON object. A separate process because peak RSS is per process, and because on a
build without the budget the decode can take gigabytes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from config.settings import Settings
from moderation.domain import policy
from moderation.items import services as service
from moderation.video import services as video
from moderation.infra.lease import LocalLeases
from moderation.bootstrap import InMemoryDispatcher, Runtime
from moderation.items import models as m
from moderation.infra.db import transaction
from tests.fakes.providers import FakeProvider, RecordingPublisher


def main(database_url: str, media_root: str, name: str, media_type: str, provider: str) -> dict:
    settings = Settings(database_url=database_url, media_root=Path(media_root), provider="local",
                        sns_topic_arn=None, dedupe=False)
    rt = Runtime(settings, policy.load(settings.thresholds), InMemoryDispatcher(), RecordingPublisher())
    rt._leases = LocalLeases()
    if provider == "bytes":
        rt._provider = FakeProvider(name="local")
    else:
        _warm_up(rt)
    item_id = service.submit(name, media_type=media_type, rt=rt).item_id
    baseline = _reset_peak()
    status = (service.process_image if media_type == "image" else video.start)(item_id, rt=rt)
    grown = _peak_kib() - baseline
    with transaction(database_url) as s:
        item = s.get(m.Item, item_id)
        return {"status": status, "reason": item.failure_reason, "peak_growth_mib": grown / 1024}


def _warm_up(rt: Runtime) -> None:
    """Load the model before the baseline: its ~100 MiB session is not the decode's cost."""
    from PIL import Image

    rt.provider.analyze_pil(Image.new("RGB", (320, 320)), 0)


def _reset_peak() -> int:
    """Reset the kernel's high-water mark to the current RSS (Linux ``clear_refs`` 5); the RSS in KiB."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _status_kib("VmRSS")


def _peak_kib() -> int:
    return _status_kib("VmHWM")


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:])))
