"""`modq items retry`: re-drive failed items (registered on the `items` group by cli/main.py)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Optional

import typer
from rich.markup import escape

from moderation.cli.common import err_line as err, fail, operator, out_line as out, runtime, tenant_option, tenant_scope
from moderation.infra.clock import aware, utcnow
from moderation.ops import redrive

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def retry(
    refs: Optional[list[str]] = typer.Argument(None, help="Item ids, id prefixes (4+ characters) or external ids"),
    all_failed: bool = typer.Option(False, "--all-failed", help="Every failed item (see --since)"),
    since: Optional[str] = typer.Option(None, help="With --all-failed: only items that failed since this ISO 8601 "
                                                   "time or this long ago (30m, 2h, 7d)"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    tenant: str = tenant_option(),
) -> None:
    """Re-drive failed items of a tenant: back to queued, then sent to the workers again."""
    if bool(refs) == all_failed:
        fail("name the items to retry, or use --all-failed (not both)")
    if since is not None and not all_failed:
        fail("--since goes with --all-failed")
    rt, scope = runtime(), tenant_scope(tenant)
    targets = refs or redrive.failed_ids(rt, parse_since(since) if since else None, scope=scope)
    if not targets:
        out.print("no failed items to retry")
        return
    result = redrive.redrive(targets, rt, actor=operator(), scope=scope)
    if as_json:
        print(json.dumps({"queued": result.queued, "unsent": result.unsent, "skipped": result.skipped}))
    else:
        out.print(f"re-queued {len(result.queued) + len(result.unsent)} item(s)", highlight=False)
        for item_id in result.queued:
            out.print(f"  {item_id} queued", highlight=False)
        for item_id in result.unsent:
            err.print(f"[yellow]warning:[/yellow] {item_id} queued but the broker did not take the task; "
                      "it will be re-sent", highlight=False)
    for ref, why in result.skipped.items():
        err.print(f"skipped {escape(ref)}: {escape(why)}", highlight=False)
    if result.skipped:
        raise typer.Exit(1)


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 time (UTC if no zone) or a duration back from now: 90s, 30m, 2h, 7d."""
    now = now or utcnow()
    match = _DURATION.match(value.strip())
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        fail(f"--since expects an ISO 8601 time or a duration like 30m, 2h, 7d; got {value!r}")
    return aware(when).astimezone(timezone.utc)  # SQLite drops an offset when it binds a time: UTC, always
