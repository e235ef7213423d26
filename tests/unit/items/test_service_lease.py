"""process_image holds the item's lease: a second delivery waits instead of calling the provider."""

from __future__ import annotations

import hashlib

import pytest

from moderation.items import services as service
from moderation.infra.lease import LeaseBusy
from tests.conftest import jpeg_bytes
from tests.fakes.providers import labels_for


def queued(rt, media_root, name="a.jpg") -> str:
    data = jpeg_bytes()
    (media_root / name).write_bytes(data)
    rt._provider.by_key[hashlib.sha256(data).hexdigest()] = labels_for("Hate Symbols", 66)
    return service.submit(name, rt=rt).item_id


def test_a_delivery_arriving_while_another_holds_the_item_waits(rt, media_root):
    item_id = queued(rt, media_root)
    rt.leases.acquire(item_id, "task-running-elsewhere", 60)
    with pytest.raises(LeaseBusy) as info:
        service.process_image(item_id, rt=rt, owner="duplicate-task")
    assert rt._provider.calls == [] and 59 < info.value.retry_after <= 60
    assert service.process_image(item_id, rt=rt, owner="task-running-elsewhere") == "flagged"  # its redelivery


def test_the_lease_is_given_back_when_processing_ends(rt, media_root):
    item_id = queued(rt, media_root)
    assert service.process_image(item_id, rt=rt, owner="t1") == "flagged"
    assert rt.leases.acquire(item_id, "t2", 60) == 0.0
    rt.leases.release(item_id, "t2")
    assert service.process_image(item_id, rt=rt, owner="t2") == "flagged"  # already decided: nothing more
    assert len(rt._provider.calls) == 1
