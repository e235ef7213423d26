"""`modq retention run`: purge the personal data past each tenant's retention now (beat does it every
MODQ_RETENTION_INTERVAL_SECONDS), or with --dry-run say what would go; either way, what was held back and why."""

from __future__ import annotations

import json

import typer
from rich.markup import escape
from rich.table import Table

from config.settings import get_settings
from moderation.cli.common import fail, out, runtime, tenant_id
from moderation.cli.progress import bar
from moderation.domain.tenancy import ALL
from moderation.infra import migrate
from moderation.privacy import retention

app = typer.Typer(help="Retention: personal data past each tenant's `retention:` policy, replaced by tombstones.",
                  no_args_is_help=True)
SKIPPED_SHOWN = 20  # lines of held-back items printed (--json lists every one)


@app.command("run")
def run(
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would be purged; change nothing"),
    tenant: str = typer.Option(ALL, "--tenant", metavar="NAME", help="Only this tenant's items (`modq tenants "
                               "list`); default '*': every tenant's, as beat does"),
    batch: int = typer.Option(500, "--batch", min=1, max=10000, help="Items per transaction"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Replace the personal data of items past their tenant's retention with tombstones (verdicts, labels,
    times and statements of reasons stay), and finish erasures asked while an item was being moderated.
    Items under legal hold, claimed by a reviewer or with a pending appeal are left, and listed."""
    migrate.require_current(get_settings().database_url)
    which = None if tenant.strip() == ALL else tenant_id(tenant)
    try:
        with bar("counting" if dry_run else "purging") as on_progress:
            report = retention.purge(runtime(), batch=batch, dry_run=dry_run, tenant_id=which,
                                     on_progress=on_progress)
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
        return
    _print(report)


def _print(report: retention.Report) -> None:
    verb = "would purge" if report.dry_run else "purged"
    if report.total:
        table = Table("tenant", "rule", "items", title=f"{verb} (dry run: nothing changed)" if report.dry_run
                      else verb, title_justify="left", box=None, pad_edge=False)
        for (name, rule), n in sorted(report.purged.items()):
            if n:
                table.add_row(escape(name), rule, str(n))
        out.print(table)
    out.print(f"{verb} {report.total} items in {report.batches} batches; {len(report.skipped)} held back",
              highlight=False)
    for skipped in report.skipped[:SKIPPED_SHOWN]:
        out.print(f"  held back {skipped.item_id} ({escape(skipped.tenant)}, {skipped.rule}): "
                  f"{escape(skipped.why)}", highlight=False, soft_wrap=True)
    if len(report.skipped) > SKIPPED_SHOWN:
        out.print(f"  ... and {len(report.skipped) - SKIPPED_SHOWN} more (--json lists every one)")
