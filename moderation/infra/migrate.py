"""`modq db upgrade`: Alembic, configured in code so no alembic.ini is needed; ``pending``: whether a
database needs it (``modq worker`` and ``modq stats`` ask first)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from moderation.infra.db import make_engine
from moderation.infra.setup_errors import not_migrated

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(database_url), revision)


def pending(database_url: str) -> bool:
    """Whether the database lacks a migration of this code (a database never migrated included)."""
    heads = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return not heads <= set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()


def require_current(database_url: str) -> None:
    """``SetupError`` unless the database answers with this code's schema (a URL or server that cannot be
    used raises what connecting raised: ``setup_errors.explain`` says what it means)."""
    if pending(database_url):
        raise not_migrated(database_url)


def revision(database_url: str, message: str) -> None:
    """Autogenerate a migration from the models (developer use)."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)
