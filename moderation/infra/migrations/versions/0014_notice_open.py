"""items.notice_open_at: the oldest open notice on an item, kept by transparency's notices

The review queue's source=notice filter and re-evaluation ask "has this item an open notice?"; the answer lives
on the item (with a partial index), so review and policy need not read the notices table of transparency, a
feature above them. Filled from the notices open now.

Revision ID: 0014_notice_open
Revises: 0013_indexes
Create Date: 2026-11-30 15:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0014_notice_open'
down_revision = '0013_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('items') as batch_op:
        batch_op.add_column(sa.Column('notice_open_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE items SET notice_open_at = (SELECT min(n.received_at) FROM notices n "
               "WHERE n.item_id = items.id AND n.decided_at IS NULL) "
               "WHERE EXISTS (SELECT 1 FROM notices n WHERE n.item_id = items.id AND n.decided_at IS NULL)")
    op.create_index('ix_items_notice_open', 'items', ['notice_open_at'], unique=False,
                    postgresql_where=sa.text('notice_open_at IS NOT NULL'),
                    sqlite_where=sa.text('notice_open_at IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_items_notice_open', table_name='items')
    if op.get_bind().dialect.name == 'sqlite':  # native: batch mode would rebuild items, which foreign keys refuse
        op.execute('ALTER TABLE items DROP COLUMN notice_open_at')
        return
    with op.batch_alter_table('items') as batch_op:
        batch_op.drop_column('notice_open_at')
