"""tenants: several platforms on one deployment, webhooks, subjects

Every existing row joins the tenant ``default`` (id 1): items, their audit trail
(through the item), policy activations stay deployment-wide (tenant_id NULL),
bank entries an operator added stay global (NULL), those a review rejection made
join ``default``. Existing ingest and reviewer tokens act for
``default``; existing admin tokens for every tenant ('*'), as they could before.
``external_id`` becomes unique per tenant.

Revision ID: 0008_tenants
Revises: 0007_policy_reevaluations
Create Date: 2026-11-30 07:30:00
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0008_tenants'
down_revision = '0007_policy_reevaluations'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
# SQLite's batch mode rebuilds a table from its reflection, where the old unique constraint on
# items.external_id has no name; this convention gives it one so it can be dropped.
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
# SQLite's batch mode rebuilds audit_events without its append-only triggers (0003_review): made again.
SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
)
TENANT_COLUMNS = (  # table, nullable, indexed
    ('alerts', True, True), ('audit_events', True, True), ('bank_entries', True, True),
    ('policy_activations', True, True), ('policy_reevaluations', True, False),
)


def upgrade() -> None:
    tenants = op.create_table(
        'tenants',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=63), nullable=False),
        sa.Column('created_by', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    # The first row of a new table: id 1 on SQLite and PostgreSQL alike, with the sequence past it.
    op.bulk_insert(tenants, [{'name': 'default', 'created_by': 'migration 0008_tenants',
                              'created_at': datetime.now(timezone.utc)}])
    _items()
    _tokens()
    for table, nullable, indexed in TENANT_COLUMNS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column('tenant_id', sa.Integer(), nullable=nullable))
            if indexed:
                batch_op.create_index(f'ix_{table}_tenant_id', ['tenant_id'], unique=False)
            batch_op.create_foreign_key(f'fk_{table}_tenant_id', 'tenants', ['tenant_id'], ['id'])
    op.execute("UPDATE alerts SET tenant_id = 1 WHERE item_id IS NOT NULL")
    # A reviewer's rejection banked an item of the one platform there was: it is that platform's entry (its
    # source names the item, its note the reviewer). Entries an operator added stay global, as meant.
    op.execute("UPDATE bank_entries SET tenant_id = 1 WHERE source LIKE 'review:%'")
    with op.batch_alter_table('audit_events') as batch_op:
        batch_op.alter_column('actor', existing_type=sa.String(length=128), type_=sa.String(length=255),
                              existing_nullable=False)
    with op.batch_alter_table('alerts') as batch_op:
        batch_op.add_column(sa.Column('fanned_out_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_alerts_fanned_out_at', ['fanned_out_at'], unique=False)
    # Alerts from before webhooks existed have nobody to fan out to.
    op.execute("UPDATE alerts SET fanned_out_at = created_at")
    _append_only_again()
    _subject_flags()
    _webhooks()


def _items() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    with op.batch_alter_table('items', naming_convention=SQLITE_NAMES if sqlite else None) as batch_op:
        batch_op.add_column(sa.Column('tenant_id', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('subject_id', sa.String(length=255), nullable=True))
        batch_op.drop_constraint('uq_items_external_id' if sqlite else 'items_external_id_key', type_='unique')
        batch_op.create_unique_constraint('uq_items_tenant_external_id', ['tenant_id', 'external_id'])
        batch_op.create_index('ix_items_tenant_subject_created_at', ['tenant_id', 'subject_id', 'created_at'],
                              unique=False)
        batch_op.create_foreign_key('fk_items_tenant_id', 'tenants', ['tenant_id'], ['id'])


def _tokens() -> None:
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.add_column(sa.Column('tenant_ids', JSON, nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('all_tenants', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE api_tokens SET all_tenants = (role = 'admin')")
    op.execute("UPDATE api_tokens SET tenant_ids = '[1]' WHERE role <> 'admin'")


def _subject_flags() -> None:
    op.create_table(
        'subject_flags',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('subject_id', sa.String(length=255), nullable=False),
        sa.Column('rule', sa.String(length=64), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('crossed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_subject_flags_tenant_subject', 'subject_flags', ['tenant_id', 'subject_id'], unique=False)


def _webhooks() -> None:
    op.create_table(
        'webhook_endpoints',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('events', JSON, nullable=False),
        sa.Column('secret', sa.String(length=128), nullable=False),
        sa.Column('previous_secret', sa.String(length=128), nullable=True),
        sa.Column('previous_secret_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_by', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('disabled_reason', sa.Text(), nullable=True),
        sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webhook_endpoints_tenant_id', 'webhook_endpoints', ['tenant_id'], unique=False)
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('endpoint_id', sa.String(length=36), nullable=False),
        sa.Column('alert_id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=32), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_status', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['alert_id'], ['alerts.id']),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('endpoint_id', 'alert_id', name='uq_webhook_deliveries_endpoint_alert'),
    )
    for column in ('alert_id', 'endpoint_id', 'next_attempt_at', 'state'):
        op.create_index(f'ix_webhook_deliveries_{column}', 'webhook_deliveries', [column], unique=False)
    op.create_table(
        'webhook_attempts',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('delivery_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('latency_ms', sa.Float(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['delivery_id'], ['webhook_deliveries.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webhook_attempts_delivery_id', 'webhook_attempts', ['delivery_id'], unique=False)


def downgrade() -> None:
    # Back to one platform: only possible while no external_id is used by two tenants.
    clash = op.get_bind().execute(sa.text(
        "SELECT external_id FROM items WHERE external_id IS NOT NULL GROUP BY external_id HAVING COUNT(*) > 1"
    )).first()
    if clash is not None:
        raise RuntimeError(f"0008_tenants cannot be undone: external_id {clash[0]!r} belongs to several tenants")
    op.drop_table('webhook_attempts')
    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_endpoints')
    op.drop_table('subject_flags')
    with op.batch_alter_table('alerts') as batch_op:
        batch_op.drop_index('ix_alerts_fanned_out_at')
        batch_op.drop_column('fanned_out_at')
    with op.batch_alter_table('audit_events') as batch_op:
        batch_op.alter_column('actor', existing_type=sa.String(length=255), type_=sa.String(length=128),
                              existing_nullable=False)
    for table, _nullable, indexed in TENANT_COLUMNS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_tenant_id', type_='foreignkey')
            if indexed:
                batch_op.drop_index(f'ix_{table}_tenant_id')
            batch_op.drop_column('tenant_id')
    with op.batch_alter_table('api_tokens') as batch_op:
        batch_op.drop_column('all_tenants')
        batch_op.drop_column('tenant_ids')
    sqlite = op.get_bind().dialect.name == 'sqlite'
    with op.batch_alter_table('items') as batch_op:
        batch_op.drop_constraint('fk_items_tenant_id', type_='foreignkey')
        batch_op.drop_index('ix_items_tenant_subject_created_at')
        batch_op.drop_constraint('uq_items_tenant_external_id', type_='unique')
        batch_op.create_unique_constraint('uq_items_external_id' if sqlite else 'items_external_id_key',
                                          ['external_id'])
        batch_op.drop_column('subject_id')
        batch_op.drop_column('tenant_id')
    op.drop_table('tenants')
    _append_only_again()


def _append_only_again() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)
