"""`modq webhooks add|list|remove|rotate-secret|deliveries|redeliver`: tenants' signed HTTPS callbacks
(README "Webhooks"). The operator sees every tenant's endpoints; ``--tenant`` narrows."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from config.settings import get_settings
from moderation.alerts import webhooks
from moderation.alerts.events import EVENTS
from moderation.cli.common import err, fail, operator, out, runtime, warn
from moderation.domain.errors import ModqError
from moderation.domain.tenancy import DEFAULT_TENANT, EVERY_TENANT, Scope
from moderation.tenants import services as tenants

app = typer.Typer(help="Webhooks: signed HTTPS callbacks of a tenant's events (Standard Webhooks).",
                  no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print JSON.")


@app.command("add")
def add(url: str = typer.Option(..., help="https:// URL that receives the events (POST, JSON)"),
        tenant: str = typer.Option(DEFAULT_TENANT, help="The tenant whose events it receives"),
        events: str = typer.Option(",".join(EVENTS), help="Comma-separated events to send"),
        as_json: bool = typer.Option(False, "--json", help="Print JSON: the endpoint and its secret.")) -> None:
    """Add an endpoint and print its signing secret once (whsec_...): the receiver verifies with it."""
    s = get_settings()
    try:
        tenant_id = tenants.tenant_id(s.database_url, tenant)
        row = webhooks.add(s.database_url, tenant_id, url, events.split(","), operator(),
                           s.webhook_http_hosts, s.webhook_private_hosts)
    except ModqError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(row))
    else:
        print(row["secret"])  # stdout holds the secret alone, for `SECRET=$(modq webhooks add ...)`
    err.print(f"webhook endpoint {row['id']} (tenant {row['tenant']}, {','.join(row['events'])}) added. Store the "
              "secret now: it cannot be shown again (`modq webhooks rotate-secret` makes a new one).", highlight=False)


@app.command("list")
def list_(tenant: str | None = typer.Option(None, help="Only this tenant's endpoints"), as_json: bool = JSON) -> None:
    """Endpoints (never their secrets)."""
    rows = webhooks.listing(get_settings().database_url, _scope(tenant))
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("id", "tenant", "url", "events", "state", "created")
    for r in rows:
        table.add_row(r["id"], r["tenant"], r["url"], ",".join(r["events"]), _state(r), r["created_at"][:19])
    out.print(table)


@app.command("remove")
def remove(endpoint_id: str = typer.Argument(..., metavar="ID")) -> None:
    """Stop sending to an endpoint; its pending deliveries end failed. Its history is kept."""
    row = _or_fail(lambda: webhooks.remove(get_settings().database_url, endpoint_id, EVERY_TENANT))
    out.print(f"removed webhook endpoint {row['id']} ({row['url']})", highlight=False)


@app.command("rotate-secret")
def rotate_secret(endpoint_id: str = typer.Argument(..., metavar="ID"),
                  overlap: str = typer.Option("24h", help="How long the old secret still signs too (0: not at all)"),
                  as_json: bool = typer.Option(False, "--json", help="Print JSON: the endpoint and its secret.")) -> None:
    """A new signing secret, printed once; during the overlap every request carries both signatures."""
    row = _or_fail(lambda: webhooks.rotate_secret(get_settings().database_url, endpoint_id, EVERY_TENANT,
                                                  webhooks.parse_overlap(overlap)))
    print(json.dumps(row) if as_json else row["secret"])
    until = row["previous_secret_until"]
    err.print(f"new secret for {row['id']}; " + (f"the old one also signs until {until}" if until else
                                                  "the old one no longer signs"), highlight=False)


@app.command("deliveries")
def deliveries(failed: bool = typer.Option(False, "--failed", help="Only deliveries that gave up"),
               endpoint: str | None = typer.Option(None, "--endpoint", help="Only this endpoint's"),
               limit: int = typer.Option(50, min=1, max=1000), as_json: bool = JSON) -> None:
    """The latest deliveries with every attempt (status code or error, latency)."""
    rows = _or_fail(lambda: webhooks.deliveries(get_settings().database_url, EVERY_TENANT, failed, endpoint, limit))
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("id", "endpoint", "event", "alert", "state", "attempts", "last", "latency")
    for r in rows:
        last = r["attempt_log"][-1] if r["attempt_log"] else {}
        table.add_row(str(r["id"]), r["endpoint_id"], r["event"], str(r["alert_id"]), r["state"], str(r["attempts"]),
                      str(r["last_status"] or r["last_error"] or "-"),
                      f"{last['latency_ms']:.0f} ms" if last else "-")
    out.print(table)


@app.command("redeliver")
def redeliver(delivery_id: int = typer.Argument(..., metavar="DELIVERY_ID")) -> None:
    """Send a delivery again now, with the same webhook-id (re-enables a disabled endpoint)."""
    row = _or_fail(lambda: webhooks.redeliver(get_settings().database_url, delivery_id, EVERY_TENANT))
    try:
        runtime().dispatcher.deliver_webhooks([row["id"]])
    except Exception as exc:  # queued in the database: beat's sweep sends it
        warn(f"could not queue the send ({exc}); the next webhook sweep sends it")
    out.print(f"delivery {row['id']} queued again", highlight=False)


def _scope(tenant: str | None) -> Scope:
    if tenant is None:
        return EVERY_TENANT
    return Scope(tenant_ids=frozenset({_or_fail(lambda: tenants.tenant_id(get_settings().database_url, tenant))}))


def _or_fail(call) -> Any:
    try:
        return call()
    except webhooks.NotFound as exc:
        fail(str(exc), 1)
    except ModqError as exc:
        fail(str(exc))


def _state(row: dict[str, Any]) -> str:
    if row["state"] == "disabled":
        return f"disabled: {row['disabled_reason']}"
    return row["state"] + (f" (old secret until {row['previous_secret_until'][:19]})"
                           if row["previous_secret_until"] else "")
