"""Progress bars of long commands (``cli.progress``): on stderr when it is a terminal, never in ``--json``'s stdout."""

from __future__ import annotations

import json
import re

import pytest
import structlog
from typer.testing import CliRunner

from moderation.cli.main import app
from tests.review_items import decided_item

runner = CliRunner()
STRICT = "min_confidence: 50\ndefault: {flag: 80, reject: null}\nlabels:\n  Hate Symbols: {flag: 40, reject: 60}\n"


@pytest.fixture
def flagged(cli_env, media_root, fake_provider) -> list[str]:
    """Three items flagged under the shipped thresholds (Hate Symbols flag 50), rejected under STRICT."""
    return [decided_item(cli_env, media_root, fake_provider, "Hate Symbols", 70) for _ in range(3)]


@pytest.fixture
def terminal(monkeypatch):
    """stderr counts as a terminal (rich's own switch), as in an operator's shell."""
    monkeypatch.setenv("TTY_COMPATIBLE", "1")


@pytest.fixture
def no_terminal(monkeypatch):
    """stderr is what it is under the test runner: a pipe, no terminal."""
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def invoke(args: list[str]):
    with structlog.testing.capture_logs():  # (unconfigured structlog would write its lines into the output)
        return runner.invoke(app, args)


def test_apply_reevaluate_draws_its_bar_on_stderr_and_keeps_json_on_stdout(flagged, terminal, tmp_path):
    (tmp_path / "strict.yaml").write_text(STRICT)
    result = invoke(["policy", "apply", str(tmp_path / "strict.yaml"), "--reevaluate", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reevaluated"]["rejected"] == 3
    assert re.search(r"re-evaluating flagged items .*3/3 items", plain(result.stderr))


def test_simulate_draws_its_bar_on_stderr(flagged, terminal, tmp_path):
    (tmp_path / "strict.yaml").write_text(STRICT)
    result = invoke(["policy", "simulate", str(tmp_path / "strict.yaml"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["items"] == 3
    assert re.search(r"replaying decisions .*3/3 items", plain(result.stderr))


def test_no_bar_when_stderr_is_no_terminal(flagged, no_terminal, tmp_path):
    (tmp_path / "strict.yaml").write_text(STRICT)
    result = invoke(["policy", "apply", str(tmp_path / "strict.yaml"), "--reevaluate"])
    assert result.exit_code == 0, result.output
    assert "re-evaluated 3 unreviewed flagged items" in result.stdout
    assert "re-evaluating" not in result.stderr and "3/3" not in result.output


def test_bank_import_draws_its_bar(cli_env, terminal, tmp_path):
    (tmp_path / "l.csv").write_text("content_key\n" + "\n".join(c * 64 for c in "abcd") + "\n")
    result = invoke(["bank", "import", str(tmp_path / "l.csv"), "--verdict", "rejected", "--batch", "3"])
    assert result.exit_code == 0, result.output
    assert re.search(r"banking .*4/4 files or rows", plain(result.stderr))
