"""indexes (issue 19.4): the queries a hot path or the console runs stay on an index as items grow

Found by EXPLAIN on a million seeded items (tests/integration/test_query_plans_pg.py); each one replaces a
sequential scan of ``items``:

- ix_items_escalated (partial: escalated items only): the escalated queue and the Escalated tab's count, which
  every console page shows; a handful of rows, so the index stays tiny.
- ix_items_lease_owner (partial: leased items only): a claim first asks which item the reviewer holds.
- ix_items_tenant_created_at: a tenant's items newest first (GET /v1/items, ``modq items list``).
- ix_items_retention (partial: not purged yet): what retention finds due, a tenant's items of some statuses
  decided before a cutoff (its count, its dry run); purged rows leave the index, so it covers the working set only.
- ix_items_unpurged (partial: not purged yet): retention's batches walk a tenant's unpurged items in id order
  (keyset); without it they walk the primary key over every item ever stored, purged or not.
- ix_items_erase_requested (partial): the erasures waiting for an item to finish.

PostgreSQL builds them CONCURRENTLY (outside the migration's transaction): a deployment with millions of items
keeps taking writes while they build.

Revision ID: 0013_indexes
Revises: 0012_privacy
Create Date: 2026-11-30 14:45:00
"""
from contextlib import nullcontext

import sqlalchemy as sa
from alembic import op

revision = '0013_indexes'
down_revision = '0012_privacy'
branch_labels = None
depends_on = None

# name -> (columns, partial index predicate or None); the same as moderation/items/models.py
INDEXES = {
    'ix_items_escalated': (['review_priority', 'escalated_at', 'id'], 'escalated_at IS NOT NULL'),
    'ix_items_lease_owner': (['lease_owner'], 'lease_owner IS NOT NULL'),
    'ix_items_tenant_created_at': (['tenant_id', 'created_at'], None),
    'ix_items_retention': (['tenant_id', 'status', 'decided_at'], 'purged_at IS NULL'),
    'ix_items_unpurged': (['tenant_id', 'id'], 'purged_at IS NULL'),
    'ix_items_erase_requested': (['tenant_id', 'id'], 'erase_requested_at IS NOT NULL'),
}


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    with _outside_transaction(postgres):
        for name, (columns, where) in INDEXES.items():
            predicate = {} if where is None else {'postgresql_where': sa.text(where), 'sqlite_where': sa.text(where)}
            op.create_index(name, 'items', columns, unique=False, postgresql_concurrently=postgres, **predicate)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    with _outside_transaction(postgres):
        for name in reversed(list(INDEXES)):
            op.drop_index(name, table_name='items', postgresql_concurrently=postgres)


def _outside_transaction(postgres: bool):
    """CREATE INDEX CONCURRENTLY may not run in a transaction block."""
    if postgres:
        return op.get_context().autocommit_block()
    return nullcontext()
