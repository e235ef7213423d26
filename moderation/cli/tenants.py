"""`modq tenants create|list|show`: the platforms (communities) one deployment moderates for.

Every deployment has the tenant ``default``; items, tokens and policy versions name theirs. A name is 1-63 of
a-z, 0-9, '-' and '_'. Bad input (a bad name, one that exists, an unknown tenant) exits 2.
"""

from __future__ import annotations

import json

import typer
from rich.table import Table

from config.settings import get_settings
from moderation.cli.common import fail, operator, out
from moderation.domain.errors import ModqError
from moderation.tenants import services as tenants

app = typer.Typer(help="Tenants: the platforms this deployment moderates for.", no_args_is_help=True)
Name = typer.Argument(..., help="The tenant's name: 1-63 of a-z, 0-9, '-', '_'")


@app.command("create")
def create(name: str = Name, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Create a tenant (then: modq tokens create --role ingest --tenant NAME --name ...)."""
    try:
        row = tenants.create(get_settings().database_url, name, created_by=operator())
    except ModqError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(row))
    else:
        out.print(f"tenant {row['id']} {row['name']!r} created", highlight=False)


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every tenant, oldest first."""
    rows = tenants.listing(get_settings().database_url)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("id", "name", "created", "by")
    for r in rows:
        table.add_row(str(r["id"]), r["name"], r["created_at"][:19], r["created_by"])
    out.print(table)


@app.command("show")
def show(name: str = Name, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """A tenant: id, name, when it was created, its items counted by status."""
    try:
        view = tenants.show(get_settings().database_url, name)
    except ModqError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(view, indent=2))
        return
    for key in ("id", "name", "created_at", "created_by"):
        out.print(f"[bold]{key}[/bold]: {view[key]}", highlight=False)
    counts = view["items"]
    out.print(f"[bold]items[/bold]: {sum(counts.values())}", highlight=False)
    for status, n in sorted(counts.items()):
        out.print(f"  {status}: {n}", highlight=False)
