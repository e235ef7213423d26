"""Alembic migrations produce exactly the schema the models describe; `pending` tells a database behind them."""

from alembic import command

from moderation.infra import migrate
from moderation.infra.migrate import alembic_config


def test_migrations_match_models(sqlite_url):
    # Autogenerate through migrations/env.py, which names every feature's models: a table missing
    # there would show up as a difference too.
    command.check(alembic_config(sqlite_url))


def test_pending_until_upgraded(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert migrate.pending(url)
    migrate.upgrade(url)
    assert not migrate.pending(url)
    command.downgrade(alembic_config(url), "-1")  # one migration behind the code
    assert migrate.pending(url)
