"""`modq demo`: how it sets itself up (the run itself, with real workers: tests/integration/test_demo.py)."""

from __future__ import annotations

from config.settings import get_settings
from moderation.cli import demo


def test_demo_starts_its_workers_from_the_repository_root():
    assert (demo.REPO / "worker" / "app.py").is_file()  # `celery -A worker` runs with cwd=REPO


def test_a_relative_sqlite_path_is_pinned_to_this_directory(tmp_path, monkeypatch):
    # The workers run from the repository: a relative SQLite path must name the same file for them.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MODQ_DATABASE_URL", "sqlite:///var/modq.db")
    monkeypatch.delenv("MODQ_MEDIA_ROOT", raising=False)
    monkeypatch.setenv("MODQ_BROKER_KEY_PREFIX", "")  # unset: the demo takes queues of its own (restored after)
    try:
        exports = demo.prepare_environment()
        settings = get_settings()
        assert settings.database_url == f"sqlite:///{tmp_path}/var/modq.db"
        assert exports == {"MODQ_MEDIA_ROOT": str(tmp_path / "var" / "demo-media"),
                           "MODQ_BROKER_KEY_PREFIX": demo.DEMO_KEY_PREFIX}
        assert settings.broker_key_prefix == "modq-demo:"
        assert settings.media_root == tmp_path / "var" / "demo-media"
    finally:
        monkeypatch.delenv("MODQ_MEDIA_ROOT", raising=False)
        get_settings.cache_clear()


def test_a_media_root_and_key_prefix_the_user_set_are_kept_and_not_exported(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MODQ_MEDIA_ROOT", str(tmp_path / "mine"))
    monkeypatch.setenv("MODQ_DATABASE_URL", f"sqlite:///{tmp_path}/modq.db")  # absolute: left as it is
    monkeypatch.setenv("MODQ_BROKER_KEY_PREFIX", "shared:")  # the user's namespace on a shared Redis: kept
    try:
        assert demo.prepare_environment() == {}
        assert get_settings().broker_key_prefix == "shared:"
        assert get_settings().media_root == tmp_path / "mine"
        assert get_settings().database_url == f"sqlite:///{tmp_path}/modq.db"
    finally:
        get_settings.cache_clear()
