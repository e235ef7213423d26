"""Per-tenant policy (issue 16.2): a tenant's own version, else the deployment's, else the MODQ_THRESHOLDS file;
history per level; the runtime's per-tenant cache; replay and re-evaluation over the items a version decides."""

from __future__ import annotations

import hashlib
import itertools
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from moderation.domain import policy
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.items import models as m, services as service
from moderation.items.submission import Origin
from moderation.policy import queries as replay_db, versions as policy_store
from moderation.policy.reevaluate import reevaluate
from moderation.tenants import services as tenants
from tests.conftest import jpeg_bytes
from tests.fakes.providers import labels_for
from tests.unit.policy.test_reevaluate import LENIENT, STRICT

_n = itertools.count(1)


@pytest.fixture
def two(rt) -> dict[str, int]:
    """Tenants ``kids`` and ``art`` besides ``default`` (id 1): name -> id."""
    url = rt.settings.database_url
    return {"default": 1, **{name: tenants.create(url, name, "test")["id"] for name in ("kids", "art")}}


def tenant_item(rt, media_root, fake_provider, tenant_id: int, label: str | None = "Hate Symbols",
                confidence: float = 70, data: bytes | None = None) -> str:
    """An image of ``tenant_id`` through the real pipeline (fake provider); its id."""
    n = next(_n)
    data = data or jpeg_bytes(width=300 + n, color=((n * 37) % 256, 90, 160))
    name = f"t{tenant_id}-{n}.jpg"
    (media_root / name).write_bytes(data)
    if label:
        fake_provider.by_key[hashlib.sha256(data).hexdigest()] = labels_for(label, confidence)
    item_id = service.submit(name, rt=rt, origin=Origin(tenant_id, "test")).item_id
    service.process_image(item_id, rt=rt)
    return item_id


def verdicts(rt, ids) -> list[tuple[str, str]]:
    with transaction(rt.settings.database_url) as s:
        return [(s.get(m.Item, i).status, s.get(m.Item, i).policy_version) for i in ids]


def test_a_tenant_without_its_own_version_uses_the_deployments_then_the_file(rt, two):
    url, file_version = rt.settings.database_url, rt.policy.version
    assert policy_store.active(url, two["kids"]) is None  # nothing applied: the file decides
    deployment = policy_store.apply(url, LENIENT, author="ops", note="everyone")
    inherited = policy_store.active(url, two["kids"])
    assert (inherited.version, inherited.tenant_id) == (deployment.version, None)
    own = policy_store.apply(url, STRICT, author="kids-admin", tenant_id=two["kids"])
    assert own.created and policy_store.active(url, two["kids"]).tenant_id == two["kids"]
    assert policy_store.active_text(url, two["kids"])[0] == own.version
    assert policy_store.active_text(url, two["art"])[0] == deployment.version  # art still inherits
    assert policy_store.active_text(url)[0] == deployment.version  # the deployment's is unchanged
    assert file_version not in (own.version, deployment.version)


def test_history_and_already_active_are_per_level(rt, two):
    url = rt.settings.database_url
    policy_store.apply(url, STRICT, author="ops")
    # The version the deployment has is new to the tenant: applying it pins kids to it.
    pinned = policy_store.apply(url, STRICT, author="kids-admin", tenant_id=two["kids"])
    assert pinned.created
    assert not policy_store.apply(url, STRICT, author="kids-admin", tenant_id=two["kids"]).created
    policy_store.apply(url, LENIENT, author="ops", note="relaxed")
    assert [(h.version, h.author) for h in policy_store.history(url)] == [
        (policy.parse(LENIENT).version, "ops"), (policy.parse(STRICT).version, "ops")]
    assert [(h.version, h.author) for h in policy_store.history(url, tenant_id=two["kids"])] == [
        (policy.parse(STRICT).version, "kids-admin")]
    assert policy_store.history(url, tenant_id=two["art"]) == []
    assert policy_store.active_text(url, two["kids"])[0] == policy.parse(STRICT).version  # pinned: not relaxed


def test_the_runtime_serves_each_tenant_its_policy_from_one_cached_read(rt, two):
    url = rt.settings.database_url
    assert rt.active_policy(two["kids"]) is rt.policy and rt.active_policy() is rt.policy
    policy_store.apply(url, LENIENT, author="ops")
    policy_store.apply(url, STRICT, author="kids-admin", tenant_id=two["kids"])
    assert rt.active_policy(two["kids"]) is rt.policy  # within the refresh interval: what was read
    rt._active = (rt._active[0], rt._active[1] - rt.settings.policy_refresh_seconds)
    reads = []
    with counting(reads):
        got = {name: rt.active_policy(tid).version for name, tid in two.items()}
        again = [rt.active_policy(tid) for tid in two.values() for _ in range(5)]
    assert got == {"default": policy.parse(LENIENT).version, "kids": policy.parse(STRICT).version,
                   "art": policy.parse(LENIENT).version}
    assert rt.active_policy().version == policy.parse(LENIENT).version
    assert len(again) == 15 and len([r for r in reads if "policy_activations" in r]) == 1, reads
    assert rt.active_policy(two["kids"]) is rt.active_policy(two["kids"])  # parsed once per version


def test_a_database_away_keeps_the_policies_it_had(rt, two, make_settings, tmp_path):
    policy_store.apply(rt.settings.database_url, STRICT, author="kids-admin", tenant_id=two["kids"])
    strict = rt.active_policy(two["kids"])
    assert strict.version == policy.parse(STRICT).version
    rt.settings = make_settings(database_url=f"sqlite:///{tmp_path}/no-such-dir/modq.db")  # cannot be opened
    rt._active = (rt._active[0], rt._active[1] - rt.settings.policy_refresh_seconds)
    assert rt.active_policy(two["kids"]) is strict and rt.active_policy(two["art"]) is rt.policy


def test_the_worker_decides_identical_images_of_two_tenants_under_their_own_policies(
        rt, two, media_root, fake_provider, make_settings):
    rt.settings = make_settings(policy_refresh_seconds=0)
    url = rt.settings.database_url
    kids = policy_store.apply(url, STRICT, author="kids-admin", tenant_id=two["kids"])
    art = policy_store.apply(url, LENIENT, author="art-admin", tenant_id=two["art"])
    same = jpeg_bytes(width=222, color=(10, 200, 30))
    ids = [tenant_item(rt, media_root, fake_provider, two[name], "Hate Symbols", 70, same)
           for name in ("kids", "art", "default")]
    assert verdicts(rt, ids) == [("rejected", kids.version), ("approved", art.version),
                                 ("flagged", rt.policy.version)]
    with transaction(url) as s:
        decided = {d.item_id: (d.verdict, d.policy_version) for d in s.scalars(select(m.Decision))}
    assert [decided[i] for i in ids] == verdicts(rt, ids)


def test_reevaluating_a_tenants_version_touches_only_its_items(rt, two, media_root, fake_provider):
    url = rt.settings.database_url
    ids = {name: tenant_item(rt, media_root, fake_provider, tid) for name, tid in two.items()}  # all flagged
    before = verdicts(rt, ids.values())
    new = policy_store.apply(url, STRICT, author="kids-admin", tenant_id=two["kids"]).policy
    summary = reevaluate(rt, new, "kids-admin", tenant_id=two["kids"])
    assert (summary.examined, summary.rejected) == (1, 1)
    after = dict(zip(ids, verdicts(rt, ids.values())))
    assert after["kids"] == ("rejected", new.version)
    assert [after["default"], after["art"]] == [before[0], before[2]]


def test_reevaluating_the_deployments_version_skips_tenants_with_their_own(rt, two, media_root, fake_provider):
    url = rt.settings.database_url
    policy_store.apply(url, policy_text(rt), author="kids-admin", tenant_id=two["kids"])  # kids: own version
    ids = {name: tenant_item(rt, media_root, fake_provider, tid) for name, tid in two.items()}
    new = policy_store.apply(url, STRICT, author="ops").policy
    summary = reevaluate(rt, new, "ops")
    assert (summary.examined, summary.rejected) == (2, 2)
    after = dict(zip(ids, (v for v, _ in verdicts(rt, ids.values()))))
    assert after == {"default": "rejected", "kids": "flagged", "art": "rejected"}


def test_replay_reads_only_the_items_a_version_decides(rt, two, media_root, fake_provider):
    url, since = rt.settings.database_url, utcnow() - timedelta(days=1)
    for name in ("default", "kids", "kids", "art"):
        tenant_item(rt, media_root, fake_provider, two[name])
    assert [replay_db.count(url, since, two[n]) for n in ("default", "kids", "art")] == [1, 2, 1]
    assert replay_db.count(url, since) == 4  # no tenant has its own version: the deployment's decides all
    policy_store.apply(url, STRICT, author="kids-admin", tenant_id=two["kids"])
    assert replay_db.count(url, since) == 2 and len(list(replay_db.rows(url, since))) == 2
    assert len(list(replay_db.rows(url, since, tenant_id=two["kids"]))) == 2


def policy_text(rt) -> str:
    return rt.settings.thresholds.read_text(encoding="utf-8")


class counting:
    """Collect the SQL every engine runs inside the block."""

    def __init__(self, into: list[str]):
        self.into = into

    def _seen(self, conn, cursor, statement, *args):
        self.into.append(statement)

    def __enter__(self):
        event.listen(Engine, "before_cursor_execute", self._seen)

    def __exit__(self, *exc):
        event.remove(Engine, "before_cursor_execute", self._seen)
