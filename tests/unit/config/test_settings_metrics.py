"""Metrics settings: the worker exporter's bind address is loopback unless the operator says otherwise."""

import pytest

from config.settings import load_settings
from tests.settings_cases import assert_refused

NOT_AN_ADDRESS = "MODQ_METRICS_HOST: Value error, not an IP address to bind: 127.0.0.1 (this machine only) " \
                 "or 0.0.0.0 (every interface)"


@pytest.mark.parametrize("value", ["", "localhost", "0.0.0.0 ", "10.0.0.256", "http://0.0.0.0"])
def test_bad_metrics_host_is_named(monkeypatch, value):
    assert_refused(monkeypatch, {"MODQ_METRICS_HOST": value}, NOT_AN_ADDRESS)


def test_metrics_host_defaults_to_loopback():
    assert load_settings().metrics_host == "127.0.0.1"


@pytest.mark.parametrize("value", ["0.0.0.0", "::", "::1", "10.1.2.3"])
def test_metrics_host_takes_any_ip_address(monkeypatch, value):
    monkeypatch.setenv("MODQ_METRICS_HOST", value)
    assert load_settings().metrics_host == value
