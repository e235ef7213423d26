"""On PostgreSQL, a table or column the code needs and the database lacks means `modq db upgrade`;
a database that does not exist is named as PostgreSQL says it."""

from __future__ import annotations

import pytest

from moderation.infra.setup_errors import explain
from tests.integration.fresh_pg import PG_ADMIN
from tests.unit.infra.test_setup_errors import raised  # what running SQL raises, as a command meets it

pytestmark = pytest.mark.integration
BROKER = "redis://127.0.0.1:1/0"


@pytest.mark.parametrize("sql, detail", [
    ("SELECT id FROM modq_no_such_table", 'relation "modq_no_such_table" does not exist'),
    ("SELECT modq_no_such_column FROM pg_class", 'column "modq_no_such_column" does not exist'),
])
def test_a_missing_table_or_column_says_run_db_upgrade(sql, detail):
    problem = str(explain(raised(PG_ADMIN, sql), PG_ADMIN, BROKER))
    assert problem.startswith(f"the database at {PG_ADMIN} (MODQ_DATABASE_URL) does not have modq's current schema")
    assert detail in problem and problem.endswith(": run `modq db upgrade`")


def test_a_database_that_does_not_exist():
    url = PG_ADMIN.rsplit("/", 1)[0] + "/modq_no_such_database"
    problem = str(explain(raised(url, "SELECT 1"), url, BROKER))
    assert problem.startswith(f"cannot use the database at {url} (MODQ_DATABASE_URL): connection failed: ")
    assert 'database "modq_no_such_database" does not exist' in problem
