"""`modq tokens create|revoke|list`: API and console tokens.

Whoever can run this can reach the database, so it is the root of trust: the
first admin token is made here.
"""

from __future__ import annotations

import json

import typer
from rich.table import Table

from config.settings import get_settings
from moderation.cli.common import choices, err, fail, operator, out
from moderation.domain.errors import ModqError
from moderation.tenants import tokens
from moderation.tenants.models import ROLES

app = typer.Typer(help="API and console tokens (roles: ingest, reviewer, admin).", no_args_is_help=True)
Role = choices("Role", ROLES)


@app.command("create")
def create(role: Role = typer.Option(..., help="What the token may do (docs/api.md)"),
           name: str = typer.Option(..., help="Who or what uses it ('alice', 'forum-backend'); shown in the audit"),
           ) -> None:
    """Create a token and print it once; only its hash is stored."""
    try:
        token_id, token = tokens.create(get_settings().database_url, name, role.value, created_by=operator())
    except ModqError as exc:
        fail(str(exc))
    print(token)  # stdout holds the token alone, for `TOKEN=$(modq tokens create ...)`
    err.print(f"token {token_id} ({role.value}, {name!r}) created. Store it now: it cannot be shown again.", highlight=False)


@app.command("revoke")
def revoke(ref: str = typer.Argument(..., help="Token id, or a name (revokes every active token with it)")) -> None:
    """Revoke a token; its console sessions end at once."""
    ids = tokens.revoke(get_settings().database_url, ref, actor=operator())
    if not ids:
        fail(f"no active token {ref!r}", 1)
    out.print(f"revoked token(s) {', '.join(map(str, ids))}", highlight=False)


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """Tokens (never their values)."""
    rows = tokens.list_tokens(get_settings().database_url)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("id", "name", "role", "created", "by", "state")
    for r in rows:
        table.add_row(str(r["id"]), r["name"], r["role"], r["created_at"][:19], r["created_by"],
                      "revoked" if r["revoked"] else "active")
    out.print(table)
