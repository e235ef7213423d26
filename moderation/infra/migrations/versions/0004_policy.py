"""policy: versioned threshold policies and their activation log; merges 0002_video and 0003_review

Revision ID: 0004_policy
Revises: 0002_video, 0003_review
Create Date: 2026-11-22 05:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004_policy'
down_revision = ('0002_video', '0003_review')
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('policy_versions',
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('yaml_text', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=128), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version')
    )
    op.create_table('policy_activations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('author', sa.String(length=128), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['version'], ['policy_versions.version'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('policy_activations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_activations_version'), ['version'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('policy_activations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policy_activations_version'))
    op.drop_table('policy_activations')
    op.drop_table('policy_versions')
