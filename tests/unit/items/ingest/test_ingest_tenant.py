"""S3 upload events go to the tenant MODQ_S3_EVENTS_TENANT names (default ``default``); an unknown one stops
the ingester before it reads a message, naming the setting."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.domain.errors import BadInput
from moderation.domain.tenancy import DEFAULT_TENANT_ID
from moderation.infra.db import transaction
from moderation.items.ingest import services as ingest_s3
from moderation.items import models as m
from moderation.tenants import services as tenants
from tests.conftest import jpeg_bytes
from tests.unit.items.ingest.test_ingest_s3 import all_items, configure, uploads  # noqa: F401  (uploads: a fixture)

UNKNOWN = ("MODQ_S3_EVENTS_TENANT: no tenant named 'kids' (`modq tenants create kids`, or name one "
           "`modq tenants list` shows)")


def submitted_by(rt, item_id: str) -> str:
    with transaction(rt.settings.database_url) as s:
        return s.scalar(select(m.AuditEvent.actor).where(m.AuditEvent.item_id == item_id,
                                                         m.AuditEvent.action == "submit"))


def test_uploads_belong_to_the_default_tenant_unless_configured(rt, uploads, make_settings):
    uploads.put("u/1.jpg", jpeg_bytes())
    assert ingest_s3.drain(rt).created == 1
    [first] = all_items(rt)
    assert first.tenant_id == DEFAULT_TENANT_ID and submitted_by(rt, first.id) == "s3-events"
    kids = tenants.create(rt.settings.database_url, "kids", "test")["id"]
    configure(rt, make_settings, tenant="kids")
    uploads.put("u/2.jpg", jpeg_bytes(color=(1, 2, 3)))
    assert ingest_s3.drain(rt).created == 1
    assert [i.tenant_id for i in all_items(rt)] == [DEFAULT_TENANT_ID, kids]


def test_an_unknown_tenant_stops_the_drain_before_it_reads(rt, uploads, make_settings):
    uploads.put("u/1.jpg", jpeg_bytes())
    configure(rt, make_settings, tenant="kids")
    before = uploads.left()
    with pytest.raises(BadInput) as info:
        ingest_s3.drain(rt)
    assert str(info.value) == UNKNOWN
    assert all_items(rt) == [] and uploads.left() == before  # nothing read, nothing lost


def test_the_command_exits_2_naming_the_setting(cli_env, uploads, make_settings, monkeypatch):
    monkeypatch.setenv("MODQ_S3_EVENTS_QUEUE_URL", uploads.url)
    monkeypatch.setenv("MODQ_S3_EVENTS_TENANT", "kids")
    configure(cli_env, make_settings, tenant="kids")
    result = CliRunner().invoke(app, ["ingest", "s3-events", "--once"])
    assert result.exit_code == 2 and result.stderr.replace("\n", "") == f"error: {UNKNOWN}"


def test_the_setting_takes_only_a_tenant_name(make_settings):
    with pytest.raises(Exception, match="s3_events_tenant"):
        make_settings(s3_events_tenant="Kids Forum")
