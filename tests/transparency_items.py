"""Items of any tenant that went through the real image pipeline (fake provider), and the statements of
reasons their decisions stored (issue 18); ``trusted_flaggers``: an autouse fixture to import where notices
are filed, so the default tenant's policy lists one trusted flagger (``IWF``)."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import pytest

from sqlalchemy import select

from moderation.domain import policy
from moderation.infra.db import transaction
from moderation.items import services as service
from moderation.items.submission import Origin
from moderation.transparency.models import Statement
from tests.conftest import jpeg_bytes
from tests.fakes.providers import labels_for
from tests.review_items import decided_item

_n = itertools.count(1)
IWF = "Internet Watch Foundation"


@pytest.fixture(autouse=True)
def trusted_flaggers(rt):
    """The default tenant's policy (the thresholds file: no version applied) lists ``IWF`` as trusted flagger."""
    rt.policy = policy.parse(Path(rt.settings.thresholds).read_text()
                             + f"\ntransparency:\n  trusted_flaggers: [\"{IWF}\"]\n")


def tenant_item(rt, media_root, fake_provider, label: str | None = "Hate Symbols", confidence: float = 70,
                tenant_id: int = 1, external_id: str | None = None) -> str:
    """``decided_item`` for tenant ``tenant_id``: a distinct JPEG the fake provider sees as ``label``."""
    if tenant_id == 1:
        return decided_item(rt, media_root, fake_provider, label, confidence, external_id=external_id)
    n = next(_n)
    data = jpeg_bytes(width=400 + n % 1000, color=(n % 256, 90, 30))
    name = f"t{tenant_id}-{n}.jpg"
    (media_root / name).write_bytes(data)
    if label:
        fake_provider.by_key[hashlib.sha256(data).hexdigest()] = labels_for(label, confidence)
    item_id = service.submit(name, external_id=external_id, rt=rt, origin=Origin(tenant_id=tenant_id)).item_id
    service.process_image(item_id, rt=rt)
    return item_id


def statements(rt, item_id: str | None = None) -> list[Statement]:
    """The item's statements (None: every one), oldest first."""
    query = select(Statement).order_by(Statement.created_at, Statement.id)
    with transaction(rt.settings.database_url) as s:
        return list(s.scalars(query if item_id is None else query.where(Statement.item_id == item_id)))
