"""Shared fixtures. Unit tests use SQLite files; integration tests use PostgreSQL."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

# Tests never touch a real AWS account: dummy credentials and a fixed region.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)
# One Redis database reserved for the test suite; the integration fixtures flush it.
TEST_REDIS_DB = int(os.environ.get("MODQ_TEST_REDIS_DB", "13"))
os.environ["MODQ_BROKER_URL"] = f"redis://127.0.0.1:6379/{TEST_REDIS_DB}"
_KEPT = ("MODQ_BROKER_URL", "MODQ_TEST_REDIS_DB", "MODQ_DOCS_SCREENSHOTS")  # the suite's own switches
for _name in [n for n in os.environ if n.startswith("MODQ_") and n not in _KEPT]:
    del os.environ[_name]  # a developer's own settings must not leak into tests

from config.settings import Settings  # noqa: E402
from moderation.domain import policy  # noqa: E402
from moderation.infra.lease import LocalLeases  # noqa: E402
from moderation.bootstrap import InMemoryDispatcher, Runtime  # noqa: E402
from moderation.infra import db, migrate  # noqa: E402
from tests.fakes.providers import FakeProvider, RecordingPublisher  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"


def jpeg_bytes(width: int = 200, height: int = 160, color=(120, 80, 40), quality: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def png_bytes(width: int = 200, height: int = 160, color=(10, 200, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def media_root(tmp_path) -> Path:
    root = tmp_path / "media"
    root.mkdir()
    return root


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """One SQLite database migrated to head per test run. Running every migration costs ~0.5 s and most unit
    tests want a fresh database: each gets a copy of this file (~1 ms) instead."""
    path = tmp_path_factory.mktemp("migrated") / "modq.db"
    migrate.upgrade(f"sqlite:///{path}")
    db.dispose_all()
    leftovers = [p.name for p in path.parent.iterdir() if p != path]
    assert not leftovers, f"the template must be one self-contained file (WAL checkpointed): {leftovers}"
    return path


@pytest.fixture
def sqlite_url(tmp_path, migrated_sqlite) -> str:
    """A fresh database at the head migration (a copy of ``migrated_sqlite``) for this test alone."""
    path = tmp_path / "modq.db"
    shutil.copyfile(migrated_sqlite, path)
    yield f"sqlite:///{path}"
    db.dispose_all()


@pytest.fixture
def make_settings(media_root, sqlite_url):
    def build(**overrides) -> Settings:
        values = dict(database_url=sqlite_url, media_root=media_root, provider="local", sns_topic_arn=None)
        values.update(overrides)
        return Settings(**values)

    return build


@pytest.fixture
def fake_provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def rt(make_settings, fake_provider) -> Runtime:
    settings = make_settings()
    runtime = Runtime(settings, policy.load(settings.thresholds), InMemoryDispatcher(), RecordingPublisher())
    runtime._provider = fake_provider
    runtime._leases = LocalLeases()  # unit tests need no Redis
    return runtime


@pytest.fixture
def cli_env(rt, monkeypatch):
    """The ``modq`` command wired to ``rt``: its database, media root and fakes."""
    from config.settings import get_settings
    from moderation.bootstrap import set_runtime

    monkeypatch.setenv("MODQ_DATABASE_URL", rt.settings.database_url)
    monkeypatch.setenv("MODQ_MEDIA_ROOT", str(rt.settings.media_root))
    get_settings.cache_clear()
    set_runtime(rt)
    yield rt
    set_runtime(None)
    get_settings.cache_clear()
