"""What every ``modq`` command group shares: where output goes, how an error ends a command, who the
operator is."""

from __future__ import annotations

import getpass
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from moderation.bootstrap import Dispatcher, Runtime, get_runtime
from worker.app import dispatcher

out = Console()
err = Console(stderr=True)
# Ids, content keys and reasons stay on one line, for grep.
out_line = Console(soft_wrap=True)
err_line = Console(stderr=True, soft_wrap=True)


def error(message: str) -> None:
    # A message's "[...]" is text, not markup. One line, wrapped by the terminal: rich's own wrapping at 80
    # columns drops the space it breaks at, so a copied message (a path, a URI) would not be the real one.
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """End the command: the message on stderr, exit ``code`` (2: bad input or usage; 1: nothing to act on)."""
    error(message)
    raise typer.Exit(code)


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/yellow] {escape(message)}", highlight=False)


def runtime() -> Runtime:
    """The command's runtime: the items it queues and the alerts it sends go to the workers through Celery."""
    return get_runtime(celery_dispatcher)


def celery_dispatcher() -> Dispatcher:
    return dispatcher()


def operator() -> str:
    """Who did it, as the audit trail and the banks record a command run by hand."""
    return f"cli:{getpass.getuser()}"


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"
