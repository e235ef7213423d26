"""The ``modq`` command."""

from __future__ import annotations

import json
import sys
from typing import get_args

import typer

from config.settings import Settings, SettingsError, get_settings
from moderation.cli import (
    api as cli_api,
    appeals as cli_appeals,
    bank as cli_bank,
    demo as cli_demo,
    holds as cli_holds,
    ingest as cli_ingest,
    items as cli_items,
    items_retry as cli_items_retry,
    policy as cli_policy,
    policy_tune as cli_policy_tune,
    retention as cli_retention,
    review as cli_review,
    stats as cli_stats,
    subjects as cli_subjects,
    submit_file as cli_submit_file,
    tenants as cli_tenants,
    tokens as cli_tokens,
    transparency as cli_transparency,
    webhooks as cli_webhooks,
)
from moderation.cli.common import ModqGroup, choices, error, fail, operator, out, runtime, tenant_id, tenant_option, warn
from moderation.domain.errors import ModqError
from moderation.infra import logs, migrate, setup_errors
from moderation.items.ingest import services as ingest_s3
from moderation.items import services as service
from moderation.ops import health
from worker.app import QUEUES, app as celery_app

Pool = choices("Pool", get_args(Settings.model_fields["worker_pool"].annotation))  # MODQ_WORKER_POOL's
app = typer.Typer(help="modq: content moderation queue worker.", no_args_is_help=True, add_completion=False,
                  cls=ModqGroup)
items_app = typer.Typer(help="Inspect and re-drive items.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(items_app, name="items")
app.add_typer(db_app, name="db")
app.add_typer(cli_policy.app, name="policy")
app.add_typer(cli_tenants.app, name="tenants")
app.add_typer(cli_tokens.app, name="tokens")
app.add_typer(cli_webhooks.app, name="webhooks")
app.add_typer(cli_review.app, name="review")
app.add_typer(cli_appeals.app, name="appeals")
app.add_typer(cli_bank.app, name="bank")
app.add_typer(cli_subjects.app, name="subjects")
app.add_typer(cli_holds.app, name="holds")  # issue 19.3: legal holds
app.add_typer(cli_ingest.app, name="ingest")
app.add_typer(cli_transparency.app, name="transparency")
app.add_typer(cli_retention.app, name="retention")
app.command("api")(cli_api.api)
app.command("stats")(cli_stats.stats)
items_app.command("retry")(cli_items_retry.retry)
items_app.command("list")(cli_items.list_)
items_app.command("show")(cli_items.show)
cli_policy.app.command("recommend")(cli_policy_tune.recommend)  # the tuning half of the policy group


@app.callback()
def _options(debug: bool = typer.Option(False, "--debug", help="Show the traceback of an error instead of one line "
                                                               "(before the command: modq --debug items list)")):
    """The options every command takes; ModqGroup reads --debug."""


def _metadata(pairs: list[str]) -> dict[str, str]:
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(f"--metadata expects key=value, got {pair!r}")
        result[key] = value
    return result


@app.command()
def submit(
    uri: str | None = typer.Argument(None, help="s3://bucket/key, file:///path or a path under MODQ_MEDIA_ROOT"),
    external_id: str | None = typer.Option(None, help="Your id for the item; resubmitting it is a no-op."),
    metadata: list[str] = typer.Option([], "--metadata", "-m", help="key=value, repeatable"),
    subject: str | None = typer.Option(None, "--subject", metavar="ID", help="The uploader's account on your "
                                       "platform (subject_id): `modq subjects show ID` is their history"),
    from_: str | None = typer.Option(None, "--from", metavar="FILE", help="Many items: an NDJSON or .csv file of "
                                     "uri, external_id, metadata, media_type, subject_id (- : NDJSON on stdin)"),
    batch: int = typer.Option(500, min=1, max=5000, help="--from: lines per transaction and broker round trip"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    tenant: str = tenant_option("items these are", every=False),
) -> None:
    """Queue one item for moderation, or every line of a file (--from; see README)."""
    origin = service.Origin(tenant_id(tenant), actor=operator())  # an unknown tenant: nothing read, nothing stored
    if from_ is not None:
        if uri is not None or external_id is not None or metadata or subject is not None:
            fail("give a URI (with --external-id, --metadata, --subject) or --from FILE, not both")
        return cli_submit_file.submit_from(from_, batch, as_json, origin)
    if uri is None:
        fail("give a media URI, or --from FILE")
    try:
        result = service.submit(uri, external_id=external_id, metadata=_metadata(metadata), rt=runtime(),
                                subject_id=subject, origin=origin)
    except ModqError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(vars(result)))
    else:
        note = "queued" if result.created else f"already known (status {result.status}); nothing sent"
        out.print(f"{result.item_id} {note}")
    if result.created and not result.dispatched:
        broker = setup_errors.shown(get_settings().broker_url)
        warn(f"stored, but the broker at {broker} (MODQ_BROKER_URL) did not take the task; the reaper re-sends "
             "it once the broker answers")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema (Alembic)."""
    url = get_settings().database_url
    migrate.upgrade(url)
    out.print("database is at the latest schema")


@app.command()
def worker(
    queues: str = typer.Option(",".join(QUEUES), help="Comma-separated queues to consume"),
    pool: Pool | None = typer.Option(None, help="default MODQ_WORKER_POOL"),
    concurrency: int | None = typer.Option(None, help="default MODQ_WORKER_CONCURRENCY"),
    beat: bool = typer.Option(False, help="Also run the periodic scheduler (one per deployment)"),
) -> None:
    """Run a Celery worker on every modq queue (same as celery -A worker worker)."""
    unknown = [q for q in queues.split(",") if q not in QUEUES]
    if unknown:  # Celery would consume a queue nothing is ever sent to, without a word
        fail(f"--queues: no queue {', '.join(map(repr, unknown))}; modq's queues are {', '.join(QUEUES)}")
    settings = get_settings()
    migrate.require_current(settings.database_url)  # one line now, not a failed task per item later
    if settings.s3_events_queue_url:  # MODQ_S3_EVENTS_TENANT must exist: one line now, not a failed drain each run
        ingest_s3.events_origin(runtime())
    try:
        health.broker(runtime())
    except Exception as exc:  # one line now, not Celery retrying the connection forever
        raise setup_errors.unreachable(exc, "the broker", "MODQ_BROKER_URL", settings.broker_url) from exc
    argv = ["worker", "-Q", queues, "--pool", pool.value if pool else settings.worker_pool,
            "--concurrency", str(concurrency or settings.worker_concurrency), "--without-gossip", "--without-mingle"]
    celery_app.worker_main(argv + (["--beat"] if beat else []))


app.command("demo")(cli_demo.demo)  # the bundled samples end to end; --serve keeps the console up


def main() -> None:
    try:
        settings = get_settings()
    except SettingsError as exc:  # before typer runs: an exit of our own, not typer.Exit
        error(str(exc))
        sys.exit(2)
    logs.configure(settings.log_format, "WARNING" if settings.log_level == "INFO" else settings.log_level)
    app()
