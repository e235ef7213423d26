"""The one check behind every "a bad setting is refused, naming the variable" table."""

from __future__ import annotations

import pytest

from config.settings import load_settings
from moderation.domain.errors import ConfigError


def assert_refused(monkeypatch, env: dict[str, str], message: str) -> None:
    """Loading settings with ``env`` set fails with a ConfigError whose text contains ``message``."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert message in str(info.value)
