"""The one check behind every "a bad setting is refused, naming the variable" table."""

from __future__ import annotations

import pytest

from config.settings import SettingsError, load_settings


def assert_refused(monkeypatch, env: dict[str, str], message: str) -> None:
    """Loading settings with ``env`` set fails with a SettingsError whose text contains ``message``."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert message in str(info.value)
