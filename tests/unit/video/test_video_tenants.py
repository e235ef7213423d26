"""A video is decided under its tenant's policy (issue 16.2), on the offline path as on the image path."""

from __future__ import annotations

from moderation.domain import policy
from moderation.items import services as service
from moderation.items.submission import Origin
from moderation.policy import versions as policy_store
from moderation.tenants import services as tenants
from moderation.video import services as video
from tests.media_factory import RED, segments, video_bytes
from tests.unit.policy.test_tenant_policy import verdicts
from tests.video_fixtures import ort  # noqa: F401 (fixture)

NEVER = "min_confidence: 50\ndefault: {flag: null, reject: null}\n"  # nothing is ever flagged or rejected


def test_the_same_video_in_two_tenants_is_decided_under_each_ones_policy(ort, media_root):  # noqa: F811
    url = ort.settings.database_url
    lenient = tenants.create(url, "art", "test")["id"]
    policy_store.apply(url, NEVER, author="art-admin", tenant_id=lenient)
    (media_root / "clip.mp4").write_bytes(video_bytes(seconds=4, scene=segments((1, 3, RED))))
    ids = [service.submit("clip.mp4", rt=ort, origin=Origin(tenant, "test")).item_id for tenant in (1, lenient)]
    for item_id in ids:
        video.start(item_id, rt=ort)
    assert verdicts(ort, ids) == [("rejected", ort.policy.version), ("approved", policy.parse(NEVER).version)]
