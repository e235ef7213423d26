"""Alembic migrations produce exactly the schema the models describe; `pending` tells a database behind them."""

import json

import pytest
import sqlalchemy as sa
from alembic import command

from moderation.infra import migrate
from moderation.infra.migrate import alembic_config


def test_migrations_match_models(sqlite_url):
    # Autogenerate through migrations/env.py, which names every feature's models: a table missing
    # there would show up as a difference too.
    command.check(alembic_config(sqlite_url))


def test_pending_until_upgraded(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert migrate.pending(url)
    migrate.upgrade(url)
    assert not migrate.pending(url)
    command.downgrade(alembic_config(url), "-1")  # one migration behind the code
    assert migrate.pending(url)


def test_0008_moves_an_existing_deployment_into_the_default_tenant(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate.upgrade(url, "0007_policy_reevaluations")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO items (id, external_id, media_uri, media_type, status, metadata, attempts, created_at, "
            "updated_at) VALUES ('i1', 'post-1', 'a.jpg', 'image', 'queued', '{}', 0, '2026-01-01', '2026-01-01')"))
        for entry_id, source in ((1, "cli:ops"), (2, "review:i1")):
            conn.execute(sa.text("INSERT INTO bank_entries (id, content_key, verdict, note, source, added_by, added_at) "
                                 f"VALUES ({entry_id}, 'k{entry_id}', 'rejected', '', '{source}', 'ops', '2026-01-01')"))
        for token_id, role in ((1, "admin"), (2, "ingest"), (3, "reviewer")):
            conn.execute(sa.text("INSERT INTO api_tokens (id, name, role, token_hash, created_by, created_at) "
                                 f"VALUES ({token_id}, '{role}', '{role}', 'h{token_id}', 'ops', '2026-01-01')"))
    migrate.upgrade(url)
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT id, name FROM tenants")).all() == [(1, "default")]
        assert conn.execute(sa.text("SELECT tenant_id FROM items")).scalar_one() == 1
        # An operator's entry stays global; a review's rejection belongs to the platform whose item it was.
        assert conn.execute(sa.text("SELECT source, tenant_id FROM bank_entries ORDER BY id")).all() == [
            ("cli:ops", None), ("review:i1", 1)]
        scopes = conn.execute(sa.text("SELECT role, tenant_ids, all_tenants FROM api_tokens ORDER BY id")).all()
        assert [(r, json.loads(t), bool(a)) for r, t, a in scopes] == [
            ("admin", [], True), ("ingest", [1], False), ("reviewer", [1], False)]
        # external_id is unique per tenant now: another tenant may use "post-1", the same tenant may not.
        conn.execute(sa.text("INSERT INTO tenants (name, created_by, created_at) VALUES ('kids', 'ops', '2026-01-01')"))
        conn.execute(sa.text(
            "INSERT INTO items (id, tenant_id, external_id, media_uri, media_type, status, metadata, attempts, "
            "created_at, updated_at) VALUES ('i2', 2, 'post-1', 'a.jpg', 'image', 'queued', '{}', 0, '2026-01-01', "
            "'2026-01-01')"))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO items (id, tenant_id, external_id, media_uri, media_type, status, metadata, attempts, "
            "created_at, updated_at) VALUES ('i3', 1, 'post-1', 'a.jpg', 'image', 'queued', '{}', 0, '2026-01-01', "
            "'2026-01-01')"))
    # SQLite rebuilt audit_events to widen its actor column: it is still append-only.
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO audit_events (actor, action, at) VALUES ('x', 'submit', '2026-01-01')"))
        conn.execute(sa.text("DELETE FROM audit_events"))
    engine.dispose()
