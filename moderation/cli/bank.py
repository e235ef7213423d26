"""`modq bank add|import|remove|list`: hash banks, content decided without any provider call.

``add`` takes what identifies the content: a media file or ``s3://`` object
(hashed here, with its PDQ hash for near-duplicates), an item id (the content
key the worker recorded for it), or a content key as ``modq items show`` prints it
(64 hex digits, or ``s3:bucket/key@version``). ``import`` banks a directory or a CSV
file at once (``banks.imports``: the sources, columns and counts).
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from pathlib import Path

import typer
from rich.table import Table

from config.settings import get_settings
from moderation.items.banks import imports, services as banks
from moderation.cli.common import error, fail, operator, out_line as out, tenant_id, tenant_scope
from moderation.cli.progress import bar as progress_bar
from moderation.domain.errors import BadInput, ModqError
from moderation.domain.tenancy import EVERY_TENANT
from moderation.infra.aws import client, fetch_s3_object
from moderation.items.queries import stored_item
from moderation.tenants import services as tenants
from moderation.infra.media import imaging, local, uris as media

Verdict = enum.Enum("Verdict", {v: v for v in banks.VERDICTS}, type=str)
app = typer.Typer(help="Hash banks: known-bad (rejected) and known-good (approved) content.", no_args_is_help=True)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def identify(source: str, settings) -> tuple[str, str | None]:
    """(content key, PDQ hex or None) for what ``bank add`` was given."""
    text = source.strip()
    if _SHA256.match(text.lower()):
        return text.lower(), None
    if text.startswith("s3:") and not text.startswith("s3://") and "@" in text:
        return text, None
    item = stored_item(settings.database_url, text, scope=EVERY_TENANT) if len(text) == 36 else None
    if item is not None:
        if not item.content_key:
            raise BadInput(f"item {text} has no content key yet (status {item.status}): bank it once decided")
        return item.content_key, None
    return _hash_media(text, settings)


def _hash_media(uri: str, settings) -> tuple[str, str | None]:
    ref = media.parse(uri, settings.media_root, settings.s3_bucket_allowlist)
    if ref.scheme == "s3":
        s3 = client("s3", settings.aws_max_attempts, settings.aws_timeout_seconds)
        data = fetch_s3_object(s3, ref.bucket, ref.key, ref.version, settings.max_image_bytes)
    else:
        data = local.read_file(ref.path, settings.max_image_bytes)
    try:
        pdq = banks.pdq_hex(imaging.prepare(data).pil())
    except BadInput:  # not an image we can decode (a video, say): exact matches only
        pdq = None
    return hashlib.sha256(data).hexdigest(), pdq


@app.command("add")
def add(
    source: str = typer.Argument(..., help="Media path or s3:// URI, an item id, or a content key"),
    verdict: Verdict = typer.Option(..., "--verdict", help="rejected (known-bad) or approved (known-good)"),
    note: str = typer.Option("", "--note", help="Why: becomes the reason of every decision it makes"),
    tenant: str | None = typer.Option(None, "--tenant", metavar="NAME", help="Decide only this tenant's items "
                                      "(default: a global entry, for every tenant's items)"),
) -> None:
    """Bank a piece of content: items with it are decided at once, with no provider call."""
    settings = get_settings()
    owner = tenant_id(tenant) if tenant is not None else None
    try:
        key, pdq = identify(source, settings)
        entry, created = banks.bank(settings.database_url, key, verdict.value, note=note, source="cli",
                                    added_by=operator(), pdq=pdq, tenant_id=owner)
    except ModqError as exc:
        fail(str(exc))
    state = "added" if created else "already banked"
    near = " (with a PDQ hash for near-duplicates)" if pdq else ""
    out.print(f"bank entry #{entry['id']} {state}: {key} -> {verdict.value}{near}", highlight=False, markup=False)


@app.command("import")
def import_(
    source: Path = typer.Argument(..., help="A directory of media files (recursive) or a CSV file"),
    verdict: Verdict | None = typer.Option(None, "--verdict", help="For every file, and CSV rows with no verdict"),
    note: str = typer.Option("", "--note", help="For every file, and CSV rows with no note"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check everything, store nothing"),
    batch: int = typer.Option(200, min=1, max=10_000, help="Entries stored per transaction"),
    as_json: bool = typer.Option(False, "--json", help="Print the counts and failures as JSON"),
) -> None:
    """Bank every image and video under a directory, or every row of a CSV (columns: path or content_key,
    pdq, verdict, note; see README). Content already banked is counted and left; a bad row is reported
    with its line and the rest imported; exit 1 if any row failed."""
    settings = get_settings()
    try:
        rows = imports.read_source(source, verdict.value if verdict else None, note)
    except ModqError as exc:
        fail(str(exc))
    with progress_bar("banking", "files or rows") as on_progress:
        result = imports.import_rows(settings.database_url, rows, source=f"import:{source.resolve().name}",
                                     added_by=operator(), max_image_bytes=settings.max_image_bytes,
                                     dry_run=dry_run, batch=batch, on_progress=on_progress)
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        for where, why in result.failed:
            error(f"{where}: {why}")
        verb = "would add" if dry_run else "added"
        out.print(f"{source}: {verb} {result.added}, {result.already} already banked, {len(result.failed)} "
                  f"failed" + (" (dry run: nothing stored)" if dry_run else ""), highlight=False, markup=False)
    if result.failed:
        raise typer.Exit(1)


@app.command("remove")
def remove(entry_id: int = typer.Argument(..., help="Entry number (modq bank list)")) -> None:
    """Stop deciding from an entry (kept, marked removed, so old decisions stay traceable)."""
    try:
        entry = banks.unbank(get_settings().database_url, entry_id, operator())
    except ModqError as exc:
        fail(str(exc), 1)
    out.print(f"bank entry #{entry_id} removed: {entry['content_key']}", highlight=False, markup=False)


@app.command("list")
def list_(include_removed: bool = typer.Option(False, "--all", help="Include removed entries"),
          limit: int = typer.Option(100, min=1, max=100_000), as_json: bool = typer.Option(False, "--json"),
          tenant: str | None = typer.Option(None, "--tenant", metavar="NAME", help="Only the entries deciding this "
                                            "tenant's items: its own and the global ones (default: every entry)")
          ) -> None:
    """Bank entries, newest first."""
    scope = tenant_scope(tenant) if tenant is not None else EVERY_TENANT
    rows = banks.listing(get_settings().database_url, include_removed, limit, scope=scope)
    if as_json:
        print(json.dumps(rows, indent=2, default=lambda t: t.isoformat()))
        return
    names = tenants.names(get_settings().database_url)
    table = Table("#", "verdict", "content key", "PDQ", "tenant", "note", "added", "by")
    for r in rows:
        verdict = r["verdict"] + (" (removed)" if r["removed_at"] else "")
        owner = "* (global)" if r["tenant_id"] is None else names.get(r["tenant_id"], str(r["tenant_id"]))
        table.add_row(str(r["id"]), verdict, r["content_key"], "yes" if r["pdq"] else "", owner, r["note"],
                      r["added_at"].strftime("%Y-%m-%d %H:%M:%S"), r["added_by"])
    out.print(table if rows else "the bank is empty")
