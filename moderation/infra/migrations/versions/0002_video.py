"""video: provider jobs, detection timelines and per-label summaries

Revision ID: 0002_video
Revises: 0001
Create Date: 2026-11-22 04:20:00

A branch beside 0003_review (both revise 0001); ``modq db upgrade`` applies
"heads", and a merge revision joins them later. New tables only: nothing here
alters a table the other branch touches.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002_video'
down_revision = '0001'
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('video_jobs',
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('client_token', sa.String(length=64), nullable=True),
    sa.Column('job_id', sa.String(length=64), nullable=True),
    sa.Column('source_uri', sa.Text(), nullable=True),
    sa.Column('staged_key', sa.Text(), nullable=True),
    sa.Column('status_message', sa.Text(), nullable=True),
    sa.Column('metadata', _JSON, nullable=False),
    sa.Column('polls', sa.Integer(), nullable=False),
    sa.Column('last_polled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ),
    sa.PrimaryKeyConstraint('item_id')
    )
    with op.batch_alter_table('video_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_video_jobs_job_id'), ['job_id'], unique=False)

    op.create_table('video_detections',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('analysis_id', sa.Integer(), nullable=False),
    sa.Column('timestamp_ms', sa.BigInteger(), nullable=False),
    sa.Column('label', sa.String(length=128), nullable=False),
    sa.Column('parent', sa.String(length=128), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('confidence', sa.Double(), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=True),
    sa.Column('end_ms', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['analysis_id'], ['analyses.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('video_detections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_video_detections_analysis_id'), ['analysis_id'], unique=False)
        batch_op.create_index('ix_video_detections_item_ts', ['item_id', 'timestamp_ms'], unique=False)

    op.create_table('video_label_summaries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('item_id', sa.String(length=36), nullable=False),
    sa.Column('analysis_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=128), nullable=False),
    sa.Column('parent', sa.String(length=128), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('max_confidence', sa.Double(), nullable=False),
    sa.Column('first_ms', sa.BigInteger(), nullable=False),
    sa.Column('last_ms', sa.BigInteger(), nullable=False),
    sa.Column('detections', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['analysis_id'], ['analyses.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('analysis_id', 'label', name='uq_video_label_summaries_label')
    )
    with op.batch_alter_table('video_label_summaries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_video_label_summaries_item_id'), ['item_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('video_label_summaries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_video_label_summaries_item_id'))
    op.drop_table('video_label_summaries')
    with op.batch_alter_table('video_detections', schema=None) as batch_op:
        batch_op.drop_index('ix_video_detections_item_ts')
        batch_op.drop_index(batch_op.f('ix_video_detections_analysis_id'))
    op.drop_table('video_detections')
    with op.batch_alter_table('video_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_video_jobs_job_id'))
    op.drop_table('video_jobs')
