"""review at scale (issue 17): appeals, and the review queue ordered by priority

Revision ID: 0009_review_at_scale
Revises: 0008_tenants
Create Date: 2026-11-30 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_review_at_scale'
down_revision = '0008_tenants'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items') as batch_op:
        batch_op.add_column(sa.Column('review_priority', sa.Integer(), nullable=True))
        batch_op.create_index('ix_items_review_queue', ['status', 'review_priority', 'created_at', 'id'],
                              unique=False)
    op.create_table(
        'appeals',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('item_id', sa.String(length=36), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('statement', sa.Text(), nullable=False),
        sa.Column('appellant', sa.String(length=255), nullable=True),
        sa.Column('filed_by', sa.String(length=255), nullable=False),
        sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('original_verdict', sa.String(length=16), nullable=False),
        sa.Column('decided_by_original', sa.String(length=255), nullable=False),
        sa.Column('lease_owner', sa.String(length=128), nullable=True),
        sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('new_verdict', sa.String(length=16), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('decided_by', sa.String(length=255), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['item_id'], ['items.id']),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('item_id', name='uq_appeals_item'),
    )
    op.create_index('ix_appeals_queue', 'appeals', ['tenant_id', 'state', 'filed_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_appeals_queue', table_name='appeals')
    op.drop_table('appeals')
    with op.batch_alter_table('items') as batch_op:
        batch_op.drop_index('ix_items_review_queue')
        batch_op.drop_column('review_priority')
