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
from moderation.domain.tenancy import ALL, DEFAULT_TENANT
from moderation.tenants import tokens
from moderation.tenants.models import ROLES

app = typer.Typer(help="API and console tokens (roles: ingest, reviewer, admin).", no_args_is_help=True)
Role = choices("Role", ROLES)


@app.command("create")
def create(role: Role = typer.Option(..., help="What the token may do (docs/api.md)"),
           name: str = typer.Option(..., help="Who or what uses it ('alice', 'forum-backend'); shown in the audit"),
           tenant: list[str] = typer.Option(
               [DEFAULT_TENANT], "--tenant", metavar="NAME", help="The tenant it acts for; reviewer and admin tokens: repeat it or "
                                                 "give a comma-separated list, or '*' for every tenant; an ingest "
                                                 "token is for exactly one"),
           as_json: bool = typer.Option(False, "--json", help="Print JSON: id, name, role, tenants, token.")) -> None:
    """Create a token and print it once; only its hash is stored."""
    wanted = tenant_names(tenant)
    url = get_settings().database_url
    try:
        token_id, token = tokens.create(url, name, role.value, created_by=operator(), tenant_names=wanted)
    except ModqError as exc:
        fail(str(exc))
    scope = [ALL] if ALL in wanted else wanted
    if as_json:
        print(json.dumps({"id": token_id, "name": name.strip(), "role": role.value, "tenants": scope,
                          "token": token}))
    else:
        print(token)  # stdout holds the token alone, for `TOKEN=$(modq tokens create ...)`
    err.print(f"token {token_id} ({role.value}, {name!r}, tenants {','.join(scope)}) created. Store it now: it "
              "cannot be shown again.", highlight=False, soft_wrap=True)


def tenant_names(given: list[str]) -> list[str]:
    """``--tenant`` as given, repeated and/or comma-separated, blanks dropped (none left: refused by name)."""
    names = [n.strip() for value in given for n in value.split(",") if n.strip()]
    if not names:
        fail("--tenant: name a tenant (or '*' for every tenant)")
    return list(dict.fromkeys(names))


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
    table = Table("id", "name", "role", "tenants", "created", "by", "state")
    for r in rows:
        table.add_row(str(r["id"]), r["name"], r["role"], ",".join(r["tenants"]), r["created_at"][:19], r["created_by"],
                      "revoked" if r["revoked"] else "active")
    out.print(table)
