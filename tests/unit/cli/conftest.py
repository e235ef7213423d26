"""The CLI tests' ``cli_env`` (tests/conftest.py), with one known Unix user: the reviewer name `modq review`
defaults to ($USER), so an audit entry or lease names "dana" whoever runs the suite."""

from __future__ import annotations

import pytest


@pytest.fixture
def cli_env(cli_env, monkeypatch):
    monkeypatch.setenv("USER", "dana")
    return cli_env
