"""`modq policy recommend` writes its candidate file, but not over one that exists unless told to."""

from __future__ import annotations

from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.domain import policy

runner = CliRunner()
HAND_WRITTEN = "# mine, tuned by hand\nlabels: {Violence: {flag: 61}}\n"


def test_an_existing_file_is_left_alone_without_force(cli_env, tmp_path):
    out = tmp_path / "candidate.yaml"
    out.write_text(HAND_WRITTEN)
    result = runner.invoke(app, ["policy", "recommend", "--target-precision", "0.9", "--out", str(out)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.replace("\n", "") == (f"error: {out} exists: give --force to replace it, or --out another "
                                               "file")
    assert out.read_text() == HAND_WRITTEN


def test_force_replaces_it(cli_env, tmp_path):
    out = tmp_path / "candidate.yaml"
    out.write_text(HAND_WRITTEN)
    result = runner.invoke(app, ["policy", "recommend", "--target-precision", "0.9", "--out", str(out), "--force"])
    assert result.exit_code == 0, result.output
    assert out.read_text() != HAND_WRITTEN and "Candidate thresholds from `modq policy recommend" in out.read_text()
    assert policy.load(out).version in result.stdout
