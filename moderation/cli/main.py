"""The ``modq`` command."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from config.settings import get_settings
from moderation.cli import (
    api as cli_api,
    bank as cli_bank,
    ingest as cli_ingest,
    items_retry as cli_items_retry,
    policy as cli_policy,
    review as cli_review,
    stats as cli_stats,
    tokens as cli_tokens,
)
from moderation.infra import logs
from moderation.domain.errors import ConfigError, ModqError

app = typer.Typer(help="modq: content moderation queue worker.", no_args_is_help=True, add_completion=False)
items_app = typer.Typer(help="Inspect and re-drive items.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(items_app, name="items")
app.add_typer(db_app, name="db")
app.add_typer(cli_policy.app, name="policy")
app.add_typer(cli_tokens.app, name="tokens")
app.add_typer(cli_review.app, name="review")
app.add_typer(cli_bank.app, name="bank")
app.add_typer(cli_ingest.app, name="ingest")
app.command("api")(cli_api.api)
app.command("stats")(cli_stats.stats)
items_app.command("retry")(cli_items_retry.retry)
out = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 2) -> None:
    # A message's "[...]" is text, not markup. One line, wrapped by the terminal: rich's own wrapping at 80
    # columns drops the space it breaks at, so a copied message (a path, a URI) would not be the real one.
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _metadata(pairs: list[str]) -> dict[str, str]:
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            _fail(f"--metadata expects key=value, got {pair!r}")
        result[key] = value
    return result


@app.command()
def submit(
    uri: str = typer.Argument(..., help="s3://bucket/key, file:///path or a path under MODQ_MEDIA_ROOT"),
    external_id: str | None = typer.Option(None, help="Your id for the item; resubmitting it is a no-op."),
    metadata: list[str] = typer.Option([], "--metadata", "-m", help="key=value, repeatable"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Queue one item for moderation."""
    from moderation.items import services as service

    try:
        result = service.submit(uri, external_id=external_id, metadata=_metadata(metadata))
    except ModqError as exc:
        _fail(str(exc))
    if as_json:
        print(json.dumps(vars(result)))
    else:
        note = "queued" if result.created else f"already known (status {result.status}); nothing sent"
        out.print(f"{result.item_id} {note}")
    if result.created and not result.dispatched:
        err.print("[yellow]warning:[/yellow] stored but the broker did not take the task; it will be re-sent")


@items_app.command("list")
def items_list(
    status: str | None = typer.Option(None), verdict: str | None = typer.Option(None),
    limit: int = typer.Option(50, min=1, max=1000), as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Recent items, newest first."""
    from moderation.review.views import item_outcomes

    views = item_outcomes(get_settings().database_url, status=status, verdict=verdict, limit=limit)
    if as_json:
        print(json.dumps(views, indent=2))
        return
    out.print(items_table(views))


def items_table(views: list[dict]) -> Table:
    table = Table("id", "media", "status", "top label", "reason")
    for v in views:
        top = max(v["labels"], key=lambda lab: lab["Confidence"], default=None)
        label = f"{top['Name']} {top['Confidence']:.1f}%" if top else "-"
        reason = v["failure_reason"] or "; ".join(v["reasons"])
        table.add_row(v["id"][:8], v["media_uri"].rsplit("/", 1)[-1], v["status"], label, reason)
    return table


@items_app.command("show")
def items_show(ref: str = typer.Argument(..., help="Item id, id prefix or external id"),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Everything about one item: status, verdict, labels, reasons, policy version."""
    from moderation.review.views import item_outcome

    view = item_outcome(get_settings().database_url, ref)
    if view is None:
        _fail(f"no item {ref!r}", 1)
    if as_json:
        print(json.dumps(view, indent=2))
        return
    for key in ("id", "external_id", "media_uri", "status", "verdict", "failure_reason", "provider",
                "model_version", "policy_version", "attempts", "created_at", "decided_at"):
        out.print(f"[bold]{key}[/bold]: {view[key]}", highlight=False)
    for reason in view["reasons"]:
        out.print(f"  reason: {reason}", highlight=False)
    for lab in view["labels"]:
        out.print(f"  label: {lab['Name']} (L{lab['TaxonomyLevel']}, parent {lab['ParentName'] or '-'}) "
                  f"{lab['Confidence']:.1f}%", highlight=False)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema (Alembic)."""
    from moderation.infra import migrate

    url = get_settings().database_url
    migrate.upgrade(url)
    out.print("database is at the latest schema")


@app.command()
def worker(
    queues: str = typer.Option("images,videos,alerts,maintenance", help="Comma-separated queues to consume"),
    pool: str | None = typer.Option(None, help="prefork | threads | solo (default MODQ_WORKER_POOL)"),
    concurrency: int | None = typer.Option(None, help="default MODQ_WORKER_CONCURRENCY"),
    beat: bool = typer.Option(False, help="Also run the periodic scheduler (one per deployment)"),
) -> None:
    """Run a Celery worker on every modq queue (same as celery -A worker worker)."""
    from worker import app as celery_app

    settings = get_settings()
    argv = ["worker", "-Q", queues, "--pool", pool or settings.worker_pool,
            "--concurrency", str(concurrency or settings.worker_concurrency), "--without-gossip", "--without-mingle"]
    celery_app.worker_main(argv + (["--beat"] if beat else []))


@app.command()
def demo(timeout: float = typer.Option(180, help="Seconds to wait for decisions")) -> None:
    """Moderate the bundled sample images end to end and print the decisions."""
    from moderation.cli.demo import run

    raise typer.Exit(run(out, timeout))


def main() -> None:
    try:
        settings = get_settings()
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        sys.exit(2)
    logs.configure(settings.log_format, "WARNING" if settings.log_level == "INFO" else settings.log_level)
    app()
