"""``modq ingest``: items from outside sources, run by hand (beat runs the same drain in production)."""

from __future__ import annotations

import json
import time

import typer
from rich.markup import escape
from rich.table import Table

from config.settings import get_settings
from moderation.cli.common import err_line, fail, out, runtime
from moderation.items.ingest import services as ingest_s3
from moderation.items.ingest.queries import recent_rejects

app = typer.Typer(help="Ingest uploads from S3 event notifications (docs/s3-events.md).", no_args_is_help=True)
FOLLOW_WAIT_SECONDS = 20  # --follow: SQS's longest long poll, so an idle queue costs one request per 20 s
HEARTBEAT_SECONDS = 60  # --follow: an idle follower says it is alive this often (a log shows it is not stuck)
clock = time.monotonic  # --follow's clock, a name of its own so tests can move it


def _line(counts: dict) -> str:
    parts = [f"{counts['messages']} messages", f"{counts['created']} created", f"{counts['duplicate']} duplicate"]
    for name in ("skipped", "ignored"):
        total = sum(counts[name].values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(counts[name].items()))
        parts.append(f"{total} {name}" + (f" ({detail})" if detail else ""))
    parts += [f"{counts['rejected']} rejected", f"{counts['kept']} kept for retry"]
    return ", ".join(parts)


def _show(counts: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(counts), flush=True)
    else:
        out.print(_line(counts), highlight=False, soft_wrap=True)


@app.command("s3-events")
def s3_events(
    once: bool = typer.Option(False, "--once", help="Drain what the queue holds now, then exit."),
    follow: bool = typer.Option(False, "--follow", help="Keep long-polling until interrupted (Ctrl-C)."),
    max_messages: int | None = typer.Option(None, min=1, help="--once: at most this many messages "
                                                              "(default MODQ_S3_EVENTS_MAX_MESSAGES)"),
    as_json: bool = typer.Option(False, "--json", help="Print counts as JSON (one object per line with --follow)."),
    heartbeat: int = typer.Option(HEARTBEAT_SECONDS, "--heartbeat", min=0, metavar="SECONDS",
                                  help="--follow: after this long with no message, say so on stderr (0: never)."),
) -> None:
    """Submit one item per object created in the buckets that notify MODQ_S3_EVENTS_QUEUE_URL."""
    if once == follow:
        fail("give exactly one of --once or --follow")
    if not get_settings().s3_events_queue_url:
        fail("MODQ_S3_EVENTS_QUEUE_URL is not set: nothing to read (docs/s3-events.md)")
    rt = runtime()
    if once:
        _show(ingest_s3.drain(rt, max_messages=max_messages).as_dict(), as_json)
        return
    total = ingest_s3.Counts()
    quiet_since = clock()  # the last line printed: a drain with messages, or a heartbeat
    try:
        while True:
            started = clock()
            counts = ingest_s3.drain(rt, wait_seconds=FOLLOW_WAIT_SECONDS)
            total.add(counts)
            if counts.messages:
                _show(counts.as_dict(), as_json)
                quiet_since = clock()
            elif clock() - started < 1:  # an empty answer before the long poll's end: SQS failed (logged)
                time.sleep(5)
            idle = clock() - quiet_since
            if heartbeat and idle >= heartbeat:
                # stderr: with --json, stdout stays one object per drain
                err_line.print(f"waiting for S3 events: 0 received in the last {idle:.0f} s, "
                               f"{total.messages} messages ({total.created} created) in total", highlight=False)
                quiet_since = clock()
    except KeyboardInterrupt:
        if not as_json:
            out.print("total: " + _line(total.as_dict()), highlight=False, soft_wrap=True)


@app.command("rejects")
def rejects(limit: int = typer.Option(20, min=1, max=1000), as_json: bool = typer.Option(False, "--json")) -> None:
    """Event records that could not be ingested, newest first, with the raw record."""
    rows = recent_rejects(get_settings().database_url, limit)
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table("id", "received", "message", "record", "reason", "raw")
    for r in rows:
        table.add_row(str(r["id"]), r["received_at"][:19], r["message_id"][:12], str(r["record_index"]),
                      escape(r["reason"]), escape(r["raw"][:120]))
    out.print(table)
