"""pay once: provider call accounting and hash banks

Revision ID: 0006_pay_once
Revises: 0005_s3_ingest
Create Date: 2026-11-22 07:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006_pay_once'
down_revision = '0005_s3_ingest'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('provider_calls',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=True),
    sa.Column('media_type', sa.String(length=16), nullable=True),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('operation', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.Column('video_seconds', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('provider_calls', schema=None) as batch_op:
        batch_op.create_index('ix_provider_calls_at', ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_provider_calls_item_id'), ['item_id'], unique=False)
    op.create_table('bank_entries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('content_key', sa.String(length=255), nullable=False),
    sa.Column('pdq', sa.String(length=64), nullable=True),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('added_by', sa.String(length=128), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bank_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_entries_content_key'), ['content_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bank_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_entries_content_key'))
    op.drop_table('bank_entries')
    with op.batch_alter_table('provider_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_calls_item_id'))
        batch_op.drop_index('ix_provider_calls_at')
    op.drop_table('provider_calls')
