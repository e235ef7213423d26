"""What every ``modq`` command group shares: where output goes, how an error ends a command (``ModqGroup``:
whatever escapes one), who the operator is, the choices an option takes."""

from __future__ import annotations

import getpass
from enum import StrEnum
from typing import Any, Iterable, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup, TyperOption

from config.settings import get_settings
from moderation.bootstrap import Dispatcher, Runtime, get_runtime
from moderation.domain.errors import BadInput, ModqError
from moderation.domain.tenancy import ALL, DEFAULT_TENANT, EVERY_TENANT, Scope
from moderation.infra import setup_errors
from moderation.infra.redact import Scrubber
from moderation.items.queries import item_id_for
from moderation.tenants import services as tenants
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


class ModqGroup(TyperGroup):
    """The ``modq`` group: what escapes a command ends here as one line. A database or broker that cannot be
    used as set up (``setup_errors.explain``) or another error modq raises on purpose exits 2 (bad setup,
    input or usage), anything else 1; ``modq --debug`` shows the traceback instead."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):  # typer's own: usage errors, exits, Ctrl-C
            raise
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            s = get_settings()
            problem = setup_errors.explain(exc, s.database_url, s.broker_url, s.redis_url)
            if problem is not None or isinstance(exc, ModqError):
                fail(str(problem or exc))
            text = Scrubber().text(setup_errors.first_line(exc))
            fail(f"unexpected {type(exc).__name__}: {text} (`modq --debug ...` shows the traceback)", 1)


def choices(name: str, values: Iterable[str]) -> type[StrEnum]:
    """An option's type that takes one of ``values``: typer refuses any other, and help lists them."""
    return StrEnum(name, {value: value for value in values})


def _flag_type(option: TyperOption, ctx: typer.Context) -> str | None:
    return None if option.is_flag or option.count else _option_type(option, ctx)


# typer 0.29's rich help gives every flag a type column ("--json <bool>"), as if it took a value; its plain
# help does not. Flags and counters show none.
_option_type = TyperOption.display_type_rich
TyperOption.display_type_rich = _flag_type


def tenant_option(what: str = "items", every: bool = True) -> Any:
    """``--tenant NAME`` (default ``default``): the tenant whose ``what`` a command reads or acts on; ``every``:
    '*' names every tenant."""
    return typer.Option(DEFAULT_TENANT, "--tenant", metavar="NAME",
                        help=f"The tenant (platform) whose {what} this is (`modq tenants list`)"
                             + ("; '*': every tenant" if every else ""))


def tenant_id(name: str) -> int:
    """The id of the tenant named; an unknown one ends the command (exit 2), naming the tenant."""
    try:
        return tenants.tenant_id(get_settings().database_url, name)
    except tenants.UnknownTenant as exc:
        fail(str(exc))


def tenant_scope(name: str) -> Scope:
    """What a command run for ``--tenant name`` sees: that tenant's items, or every tenant's ('*')."""
    return EVERY_TENANT if name.strip() == ALL else Scope(tenant_ids=frozenset({tenant_id(name)}))


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


def item_ref(rt: Runtime, ref: str, scope: Scope) -> str:
    """The id of the item ``ref`` names (an id, an id prefix or an external id) among ``scope``'s, or exit:
    2 for a prefix several items share (some are listed), 1 for none."""
    try:
        item_id = item_id_for(rt.settings.database_url, ref, scope)
    except BadInput as exc:
        fail(str(exc))
    if item_id is None:
        fail(f"no item {ref!r}", 1)
    return item_id
