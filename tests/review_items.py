"""Items that went through the real image pipeline (fake provider) to a verdict."""

from __future__ import annotations

import hashlib
import itertools

from datetime import datetime, timedelta

from sqlalchemy import update

from moderation.infra.clock import aware, utcnow
from moderation.infra.db import transaction
from moderation.items import models as m, services as service
from tests.conftest import jpeg_bytes
from tests.fakes.providers import labels_for

_colors = itertools.count(1)


def decided_item(rt, media_root, fake_provider, label: str | None = "Hate Symbols", confidence: float = 70,
                 external_id: str | None = None) -> str:
    """Submit a distinct JPEG, let the fake provider see ``label``, process it; the item id."""
    n = next(_colors)
    data = jpeg_bytes(width=100 + n % 1000, color=((n * 67) % 256, (n * 131) % 256, 200))
    name = f"item-{n}.jpg"
    (media_root / name).write_bytes(data)
    if label:
        fake_provider.by_key[hashlib.sha256(data).hexdigest()] = labels_for(label, confidence)
    item_id = service.submit(name, external_id=external_id, rt=rt).item_id
    service.process_image(item_id, rt=rt)
    return item_id


def lease_of(rt, item_id: str) -> tuple[str | None, datetime | None]:
    """Who holds the item's lease, and until when (as the database has it)."""
    with transaction(rt.settings.database_url) as s:
        item = s.get(m.Item, item_id)
        return item.lease_owner, aware(item.lease_expires_at) if item.lease_expires_at else None


def ends_in(rt, item_id: str, seconds: float) -> datetime:
    """Move the end of the item's lease to ``seconds`` from now: the passage of time, as the server sees it."""
    until = utcnow() + timedelta(seconds=seconds)
    with transaction(rt.settings.database_url) as s:
        s.execute(update(m.Item).where(m.Item.id == item_id).values(lease_expires_at=until))
    return until
