"""Alembic environment; the URL comes from modq's settings, never from an ini file."""

from alembic import context

from moderation.infra.db import make_engine
from moderation.infra.schema import Base

# Every feature's tables, so that autogenerate (and tests/unit/infra/test_migrations.py) compares the
# migrations with all of them. The one place in infra that imports features: Alembic runs this file by
# path, and migrations/ is no package, so import-linter does not see it (.importlinter says so).
from moderation.alerts import models as _alerts  # noqa: F401
from moderation.items.banks import models as _banks  # noqa: F401
from moderation.items.ingest import models as _ingest  # noqa: F401
from moderation.items import models as _items  # noqa: F401
from moderation.policy import models as _policy  # noqa: F401
from moderation.providers import models as _providers  # noqa: F401
from moderation.review import models as _review  # noqa: F401
from moderation.tenants import models as _tenants  # noqa: F401
from moderation.transparency import models as _transparency  # noqa: F401
from moderation.privacy import models as _privacy  # noqa: F401
from moderation.video import models as _video  # noqa: F401

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        # batch mode: SQLite can only alter tables by copying them
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
