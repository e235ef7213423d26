"""s3 ingest: rejected S3 event records kept for inspection

Revision ID: 0005_s3_ingest
Revises: 0004_policy
Create Date: 2026-11-22 07:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005_s3_ingest'
down_revision = '0004_policy'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ingest_rejects',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('queue_url', sa.Text(), nullable=False),
    sa.Column('message_id', sa.String(length=128), nullable=False),
    sa.Column('record_index', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id', 'record_index', name='uq_ingest_rejects_record')
    )
    with op.batch_alter_table('ingest_rejects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ingest_rejects_received_at'), ['received_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ingest_rejects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ingest_rejects_received_at'))
    op.drop_table('ingest_rejects')
