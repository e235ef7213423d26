"""cli/common: what escapes a command ends as one line (a traceback only with --debug); choices; flags shown
as flags in help."""

from __future__ import annotations

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from moderation.cli.common import ModqGroup, choices
from moderation.cli.main import app as modq
from moderation.domain.errors import BadInput

runner = CliRunner()
app = typer.Typer(cls=ModqGroup)
Colour = choices("Colour", ("red", "green"))


@app.callback()
def options(debug: bool = typer.Option(False, "--debug")):
    pass


@app.command()
def boom(kind: str) -> None:
    if kind == "bug":
        raise ValueError("the sum went wrong\nsecond line")
    if kind == "input":
        raise BadInput("that input cannot be used")
    if kind == "secret":
        raise RuntimeError("cannot open postgresql://me:pa55word@db/modq")
    raise typer.Exit(int(kind))


@app.command()
def paint(colour: Colour) -> None:
    print(f"painted {colour.value}")


@pytest.mark.parametrize("kind, code, stderr", [
    ("bug", 1, "error: unexpected ValueError: the sum went wrong (`modq --debug ...` shows the traceback)"),
    ("input", 2, "error: that input cannot be used"),
    ("secret", 1, "error: unexpected RuntimeError: cannot open postgresql://me:[redacted]@db/modq (`modq --debug "
                  "...` shows the traceback)"),
    ("3", 3, ""),
])
def test_what_escapes_a_command_is_one_line(cli_env, kind, code, stderr):
    result = runner.invoke(app, ["boom", kind])
    assert (result.exit_code, result.stderr.replace("\n", "")) == (code, stderr)


def test_debug_lets_the_exception_through_with_its_traceback(cli_env):
    result = runner.invoke(app, ["--debug", "boom", "bug"])
    assert isinstance(result.exception, ValueError) and result.exc_info[2] is not None
    assert result.stderr == ""


def test_a_choice_is_checked_by_typer(cli_env):
    assert runner.invoke(app, ["paint", "green"]).stdout == "painted green\n"
    refused = runner.invoke(app, ["paint", "blue"])
    shown = " ".join(refused.stderr.replace("│", " ").split())  # typer's error box, unwrapped
    assert refused.exit_code == 2 and "'blue' is not one of 'red', 'green'" in shown


def every_command(command, path=()):
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from every_command(sub, (*path, name))


@pytest.mark.parametrize("path", list(every_command(typer.main.get_command(modq))), ids=" ".join)
def test_help_shows_flags_without_a_value_type(path):
    result = runner.invoke(modq, [*path, "--help"])
    assert result.exit_code == 0 and "<bool>" not in result.stdout and "--help" in result.stdout
