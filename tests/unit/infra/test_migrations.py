"""Alembic migrations produce exactly the schema the models describe."""

from alembic import command

from moderation.infra.migrate import alembic_config


def test_migrations_match_models(sqlite_url):
    # Autogenerate through migrations/env.py, which names every feature's models: a table missing
    # there would show up as a difference too.
    command.check(alembic_config(sqlite_url))
