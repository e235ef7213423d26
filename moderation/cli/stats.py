"""`modq stats`: the report of ``moderation/ops/stats.py`` as tables, JSON, or refreshed every N seconds."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import typer
from rich.console import Console
from rich.table import Table

from config.settings import get_settings
from moderation.cli.common import fail, out
from moderation.domain.errors import ConfigError
from moderation.infra import migrate
from moderation.ops.stats import Section, collect
from moderation.policy.queries import parse_since
from worker.app import QUEUES


def render(sections: list[Section], console: Console = out) -> None:
    for section in sections:
        table = Table(title=section.title, title_justify="left", show_header=False, box=None, pad_edge=False)
        table.add_column(style="bold", min_width=28)
        table.add_column()
        if section.error:
            table.add_row("[red]error[/red]", section.error)
        for label, value in section.rows:
            table.add_row(label, value)
        console.print(table)
        console.print()


def stats(
    window: float = typer.Option(15, "--window", "-w", min=0.1, help="Minutes of recent activity to summarize"),
    since: str | None = typer.Option(None, "--since", help="Like --window, as 7d, 12h, 30m or 2w"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (every section's figures)."),
    watch: float = typer.Option(0, "--watch", min=0, help="Refresh every N seconds (Ctrl-C to stop)"),
) -> None:
    """Queue depths, items by status, recent throughput and verdicts, latency, outbox, video jobs,
    provider calls (made and avoided) and their estimated cost."""
    settings = get_settings()
    span = timedelta(minutes=window)
    if since is not None:
        try:
            span = parse_since(since)
        except ConfigError as exc:
            fail(str(exc))
    migrate.require_current(settings.database_url)  # else every section but the broker's says the same error
    while True:
        sections = collect(settings, span, QUEUES)
        if as_json:
            print(json.dumps({s.key: ({"error": s.error} if s.error else s.data) for s in sections}, default=str))
        else:
            if watch:
                out.clear()
            render(sections)
        if not watch:
            break
        time.sleep(watch)
