"""`modq policy`: validate reports every problem; the group's summary names every command it has."""

from __future__ import annotations

import typer.main
from typer.testing import CliRunner

from moderation.cli.main import app

runner = CliRunner()


def test_validate_reports_every_problem_one_line_each(cli_env, tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text("min_confidence: 101\nlabels: {Explicit: {flag: 150}, Violence: {flag: 90, reject: 80}}\n")
    result = runner.invoke(app, ["policy", "validate", str(bad)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"error: {bad}: min_confidence: 101 is outside 0-100",
        f"error: {bad}: labels.Explicit.flag: 150 is outside 0-100",
        f"error: {bad}: labels.Violence: reject (80) is lower than flag (90)",
    ]


def test_simulate_and_apply_refuse_the_same_file_with_every_problem(cli_env, tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text("labels: {Explicitt: {flag: 50}, Explicit: {flagg: 1}}\n")
    for command in (["simulate", str(bad)], ["apply", str(bad)]):
        result = runner.invoke(app, ["policy", *command])
        assert result.exit_code == 2 and "Explicitt: unknown moderation label" in result.stderr
        assert "Explicit: unknown key 'flagg'" in result.stderr
    assert "no version applied yet" in runner.invoke(app, ["policy", "history"]).stdout


def test_the_group_summary_names_every_command():
    group = typer.main.get_command(app).commands["policy"]
    summary = group.help
    assert [name for name in group.commands if name not in summary] == []
    assert "recommend" in runner.invoke(app, ["--help"]).stdout
