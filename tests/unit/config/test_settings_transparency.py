"""Settings of the DSA Transparency Database submission (MODQ_DSA_TDB_*) and of retention (MODQ_RETENTION_*):
defaults, and every bad value refused naming the variable."""

from __future__ import annotations

import pytest

from config.settings import load_settings
from tests.settings_cases import assert_refused

TDB = "https://transparency.dsa.ec.europa.eu"


def test_off_by_default():
    s = load_settings()
    assert s.dsa_tdb_url is None and s.dsa_tdb_token is None and s.dsa_tdb_batch_size == 100
    assert (s.retention_interval_seconds, s.retention_batch_size) == (3600.0, 500)


def test_a_url_with_its_token_is_read_and_the_token_never_shown(monkeypatch):
    monkeypatch.setenv("MODQ_DSA_TDB_URL", TDB + "/")
    monkeypatch.setenv("MODQ_DSA_TDB_TOKEN", "s3cret-token")
    s = load_settings()
    assert s.dsa_tdb_url == TDB and s.dsa_tdb_token.get_secret_value() == "s3cret-token"
    assert "s3cret-token" not in repr(s)


def test_plain_http_is_for_localhost_only(monkeypatch):
    monkeypatch.setenv("MODQ_DSA_TDB_URL", "http://127.0.0.1:8080")
    monkeypatch.setenv("MODQ_DSA_TDB_TOKEN", "t")
    assert load_settings().dsa_tdb_url == "http://127.0.0.1:8080"


@pytest.mark.parametrize("env, message", [
    ({"MODQ_DSA_TDB_URL": TDB}, "MODQ_DSA_TDB_TOKEN is required when MODQ_DSA_TDB_URL is set"),
    ({"MODQ_DSA_TDB_URL": TDB, "MODQ_DSA_TDB_TOKEN": "  "}, "MODQ_DSA_TDB_TOKEN is required"),
    ({"MODQ_DSA_TDB_URL": "http://tdb.example.org", "MODQ_DSA_TDB_TOKEN": "t"}, "MODQ_DSA_TDB_URL"),
    ({"MODQ_DSA_TDB_URL": "https://user:pw@tdb.example.org", "MODQ_DSA_TDB_TOKEN": "t"}, "MODQ_DSA_TDB_URL"),
    ({"MODQ_DSA_TDB_URL": "ftp://tdb.example.org", "MODQ_DSA_TDB_TOKEN": "t"}, "MODQ_DSA_TDB_URL"),
    ({"MODQ_DSA_TDB_URL": "https://tdb.example.org/?token=x", "MODQ_DSA_TDB_TOKEN": "t"}, "MODQ_DSA_TDB_URL"),
    ({"MODQ_DSA_TDB_BATCH_SIZE": "101"}, "MODQ_DSA_TDB_BATCH_SIZE"),
    ({"MODQ_DSA_TDB_BATCH_SIZE": "0"}, "MODQ_DSA_TDB_BATCH_SIZE"),
    ({"MODQ_DSA_TDB_REQUESTS_PER_SECOND": "0"}, "MODQ_DSA_TDB_REQUESTS_PER_SECOND"),
    ({"MODQ_RETENTION_INTERVAL_SECONDS": "5"}, "MODQ_RETENTION_INTERVAL_SECONDS"),
    ({"MODQ_RETENTION_BATCH_SIZE": "0"}, "MODQ_RETENTION_BATCH_SIZE"),
])
def test_a_bad_value_is_refused_naming_the_variable(monkeypatch, env, message):
    assert_refused(monkeypatch, env, message)
