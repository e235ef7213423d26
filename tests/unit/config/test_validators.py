"""The pure checks settings share with moderation (config/validators.py)."""

from __future__ import annotations

import pytest

from config.validators import parse_rates


@pytest.mark.parametrize("spec, parsed", [(None, {}), ("", {}), ("GetContentModeration=10, StartContentModeration=2.5",
                                           {"GetContentModeration": 10.0, "StartContentModeration": 2.5})])
def test_parse_rates(spec, parsed):
    assert parse_rates(spec) == parsed


@pytest.mark.parametrize("spec", ["Get=", "=5", "Get=0", "Get=-1", "Get=fast", "Get:5", "Get Content=5"])
def test_parse_rates_refuses(spec):
    with pytest.raises(ValueError, match="expected Operation=tps"):
        parse_rates(spec)
