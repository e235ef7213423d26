"""The console's item page shows the uploader's history: counts, and their last rejected items, blurred."""

from __future__ import annotations

import hashlib
import re

from moderation.items import services as service
from tests.conftest import jpeg_bytes
from tests.fakes.providers import labels_for


def uploaded(rt, media_root, fake_provider, n: int, confidence: float | None, subject: str | None = "user-7") -> str:
    data = jpeg_bytes(width=110 + n, color=(n, 60, 90))
    (media_root / f"c{n}.jpg").write_bytes(data)
    if confidence:
        fake_provider.by_key[hashlib.sha256(data).hexdigest()] = labels_for("Hate Symbols", confidence)
    item_id = service.submit(f"c{n}.jpg", subject_id=subject, rt=rt).item_id
    service.process_image(item_id, rt=rt)
    return item_id


def test_the_item_page_shows_the_uploaders_history(client, sign_in, rt, media_root, fake_provider):
    rejected = [uploaded(rt, media_root, fake_provider, n, 95) for n in (1, 2)]
    uploaded(rt, media_root, fake_provider, 3, None)  # approved
    current = uploaded(rt, media_root, fake_provider, 4, 70)  # flagged: the one being reviewed
    sign_in()

    html = client.get(f"/items/{current}").text

    section = html[html.index('id="subject-history"'):]
    assert "user-7" in section and "4 items" in section and "2 rejected" in section and "1 approved" in section
    thumbs = re.findall(r'<span class="thumb blurred"><img src="/media/([0-9a-f-]+)"', section)
    assert thumbs == rejected[::-1]  # the newest first, each blurred as flagged media is


def test_an_item_without_a_subject_has_no_history_block(client, sign_in, rt, media_root, fake_provider):
    current = uploaded(rt, media_root, fake_provider, 5, 70, subject=None)
    sign_in()
    assert 'id="subject-history"' not in client.get(f"/items/{current}").text
