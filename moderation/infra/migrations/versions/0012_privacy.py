"""privacy (issue 19): retention, erasure and legal holds

- items.purged_at / purge_cause: the item's personal data was replaced by tombstones (retention or erasure);
  items.erase_requested_at: an erasure asked while the item was being moderated, done when it ends.
- legal_holds: an item or a subject of a tenant kept whatever retention or an erasure says.
- audit_events stays append-only but for one change: an entry's free text (``reason``) replaced by a tombstone,
  '[purged]' or '[erased]', every other column as it was, never on the privacy trail's own entries (hold,
  release_hold, purge, erase) (the triggers of 0003_review, made again).

Revision ID: 0012_privacy
Revises: 0011_transparency
Create Date: 2026-11-30 14:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0012_privacy'
down_revision = '0011_transparency'
branch_labels = None
depends_on = None

_KEPT = ('id', 'item_id', 'tenant_id', 'at', 'actor', 'action', 'from_status', 'to_status', 'verdict',
         'policy_version')
# The privacy trail itself (holds, purges, erasures) holds no personal data and keeps its reasons.
_PRIVACY_TRAIL = "'hold', 'release_hold', 'purge', 'erase'"
_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION modq_audit_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.reason IN ('[purged]', '[erased]') AND OLD.reason IS NOT NULL
     AND OLD.action NOT IN ({kept}) AND ({new}) IS NOT DISTINCT FROM ({old}) THEN
    RETURN NEW;  -- a tombstone over the free text: retention and erasure (issue 19)
  END IF;
  RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
""".format(new=", ".join(f"NEW.{c}" for c in _KEPT), old=", ".join(f"OLD.{c}" for c in _KEPT), kept=_PRIVACY_TRAIL)
_PG_FUNCTION_0003 = """
CREATE OR REPLACE FUNCTION modq_audit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
"""
_SQLITE_NO_UPDATE = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "WHEN NOT (NEW.reason IN ('[purged]', '[erased]') AND OLD.reason IS NOT NULL "
    "AND OLD.action NOT IN ({kept}) AND {same}) "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
).format(same=" AND ".join(f"NEW.{c} IS OLD.{c}" for c in _KEPT), kept=_PRIVACY_TRAIL)
_SQLITE_NO_UPDATE_0003 = ("CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                          "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END")


def upgrade() -> None:
    with op.batch_alter_table('items') as batch_op:
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('purge_cause', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('erase_requested_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'legal_holds',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.String(length=36), nullable=True),
        sa.Column('subject_id', sa.String(length=255), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_by', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('released_by', sa.String(length=255), nullable=True),
        sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['item_id'], ['items.id']),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_legal_holds_item', 'legal_holds', ['item_id'], unique=False)
    op.create_index('ix_legal_holds_subject', 'legal_holds', ['tenant_id', 'subject_id'], unique=False)
    _audit_triggers(_PG_FUNCTION, _SQLITE_NO_UPDATE)


def downgrade() -> None:
    _audit_triggers(_PG_FUNCTION_0003, _SQLITE_NO_UPDATE_0003)
    op.drop_index('ix_legal_holds_subject', table_name='legal_holds')
    op.drop_index('ix_legal_holds_item', table_name='legal_holds')
    op.drop_table('legal_holds')
    if op.get_bind().dialect.name == 'sqlite':  # a native DROP COLUMN: batch mode would rebuild items, which
        for column in ('erase_requested_at', 'purge_cause', 'purged_at'):  # the foreign keys to it refuse
            op.execute(f'ALTER TABLE items DROP COLUMN {column}')
        return
    with op.batch_alter_table('items') as batch_op:
        for column in ('erase_requested_at', 'purge_cause', 'purged_at'):
            batch_op.drop_column(column)


def _audit_triggers(pg_function: str, sqlite_no_update: str) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute(pg_function)  # the trigger of 0003_review calls it by name
    elif dialect == 'sqlite':
        op.execute('DROP TRIGGER IF EXISTS audit_events_no_update')
        op.execute(sqlite_no_update)
