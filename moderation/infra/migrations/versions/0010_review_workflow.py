"""review workflow (issue 17): undo and override, reason codes, escalation, reviewer preferences

- alerts.hold_until: a review's alerts wait out its undo window before SNS or a webhook carries them;
  alerts.cancelled_at: an undone review's alerts that never left are cancelled, not sent.
- reviews: reason_code (from the policy's configured list), alert_ids (what an undo cancels or follows up),
  overridden_from/_by/_at (an admin's override of a recorded review).
- items.escalated_at: an escalated item waits in the senior queue, not the reviewers'; escalations keeps
  who escalated it, when and why.
- reviewer_preferences and tenant_review_defaults: blur, grayscale, muted video, shortcuts.

Revision ID: 0010_review_workflow
Revises: 0009_review_at_scale
Create Date: 2026-11-30 10:40:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0010_review_workflow'
down_revision = '0009_review_at_scale'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('alerts') as batch_op:
        batch_op.add_column(sa.Column('hold_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('reviews') as batch_op:
        batch_op.add_column(sa.Column('reason_code', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('alert_ids', JSON, nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('overridden_from', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('overridden_by', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('overridden_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('items') as batch_op:
        batch_op.add_column(sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'escalations',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('item_id', sa.String(length=36), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('escalated_by', sa.String(length=255), nullable=False),
        sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('resolved_by', sa.String(length=255), nullable=True),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['item_id'], ['items.id']),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_escalations_item', 'escalations', ['item_id'], unique=False)
    op.create_index('ix_escalations_open', 'escalations', ['tenant_id', 'resolved_at', 'escalated_at'], unique=False)
    op.create_table(
        'reviewer_preferences',
        sa.Column('reviewer', sa.String(length=255), nullable=False),
        sa.Column('settings', JSON, nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('reviewer'),
    )
    op.create_table(
        'tenant_review_defaults',
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('settings', JSON, nullable=False),
        sa.Column('updated_by', sa.String(length=255), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.PrimaryKeyConstraint('tenant_id'),
    )


def downgrade() -> None:
    op.drop_table('tenant_review_defaults')
    op.drop_table('reviewer_preferences')
    op.drop_index('ix_escalations_open', table_name='escalations')
    op.drop_index('ix_escalations_item', table_name='escalations')
    op.drop_table('escalations')
    with op.batch_alter_table('items') as batch_op:
        batch_op.drop_column('escalated_at')
    with op.batch_alter_table('reviews') as batch_op:
        for column in ('overridden_at', 'overridden_by', 'overridden_from', 'alert_ids', 'reason_code'):
            batch_op.drop_column(column)
    with op.batch_alter_table('alerts') as batch_op:
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('hold_until')
