"""transparency (issue 18): statements of reasons and notices

- statements: one per restrictive decision (automatic, review, override, upheld appeal), the
  StatementStoreRequest body built in the deciding transaction, and its way to the DSA Transparency Database
  (state, attempts, errors); puid unique, as the database requires.
- notices: Art. 16 notices on an item, open until a decision answers them.

Revision ID: 0011_transparency
Revises: 0010_review_workflow
Create Date: 2026-11-30 14:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0011_transparency'
down_revision = '0010_review_workflow'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'statements',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('puid', sa.String(length=329), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.String(length=36), nullable=False),
        sa.Column('decision', sa.String(length=16), nullable=False),
        sa.Column('decision_ref', sa.String(length=64), nullable=False),
        sa.Column('body', JSON, nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('hold_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('tdb_uuid', sa.String(length=64), nullable=True),
        sa.Column('errors', JSON, nullable=True),
        sa.ForeignKeyConstraint(['item_id'], ['items.id']),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('puid'),
    )
    op.create_index('ix_statements_item', 'statements', ['item_id'], unique=False)
    op.create_index('ix_statements_tenant_created', 'statements', ['tenant_id', 'created_at'], unique=False)
    op.create_index('ix_statements_state', 'statements', ['state', 'hold_until'], unique=False)
    op.create_table(
        'notices',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.String(length=36), nullable=False),
        sa.Column('explanation', sa.Text(), nullable=False),
        sa.Column('notifier_name', sa.String(length=255), nullable=True),
        sa.Column('notifier_email', sa.String(length=320), nullable=True),
        sa.Column('good_faith', sa.Boolean(), nullable=False),
        sa.Column('trusted_flagger', sa.Boolean(), nullable=False),
        sa.Column('csam', sa.Boolean(), nullable=False),
        sa.Column('filed_by', sa.String(length=255), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('automated', sa.Boolean(), nullable=True),
        sa.Column('decision_ref', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['item_id'], ['items.id']),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_notices_item_open', 'notices', ['item_id', 'decided_at'], unique=False)
    op.create_index('ix_notices_tenant_received', 'notices', ['tenant_id', 'received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_notices_tenant_received', table_name='notices')
    op.drop_index('ix_notices_item_open', table_name='notices')
    op.drop_table('notices')
    op.drop_index('ix_statements_state', table_name='statements')
    op.drop_index('ix_statements_tenant_created', table_name='statements')
    op.drop_index('ix_statements_item', table_name='statements')
    op.drop_table('statements')
