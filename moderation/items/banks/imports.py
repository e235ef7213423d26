"""Bulk bank import (``modq bank import DIR|CSV``): many entries, one transaction per batch.

A directory: every file under it, recursively, in path order; hidden files and directories (a name
starting with ``.``) are skipped and symlinked directories not followed. Each file must be an image or a
video (by content): its sha256 is the content key, as a worker computes it, and an image's PDQ hash is
kept for near-duplicates. Verdict and note are the command's.

A CSV file (UTF-8, a header row naming its columns, in any order):

``path``         a media file, relative to the CSV's directory or absolute, hashed as above; or
``content_key``  what ``modq items show`` prints: 64 hex digits (sha256) or ``s3:bucket/key@version``;
``pdq``          optional, beside ``content_key``: a PDQ hash, 64 hex digits;
``verdict``      optional: ``rejected`` or ``approved`` (default: the command's ``--verdict``);
``note``         optional (default: the command's ``--note``).

Each file or row is added, already banked (the same content with the same verdict: counted, left as it
is, so a re-run adds nothing), or failed, with its line number (or path) and why; nothing is stored for a
failed row, and the others are imported. A whole source that cannot be read (no such file, no header, an
unknown column) is ``BadInput`` before anything is stored.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from moderation.items.banks import services as banks
from moderation.domain.errors import BadInput
from moderation.infra.db import transaction
from moderation.infra.media import imaging, local, uris

COLUMNS = ("path", "content_key", "pdq", "verdict", "note")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
OnProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class Row:
    where: str  # "line 7" of a CSV, or a file's path under the directory
    verdict: str | None
    note: str
    path: Path | None = None
    content_key: str = ""
    pdq: str | None = None


@dataclass
class Result:
    added: int = 0
    already: int = 0  # the same content with the same verdict was banked before (or earlier in this import)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (where, why)
    dry_run: bool = False

    def to_dict(self) -> dict:
        return {"added": self.added, "already_banked": self.already, "dry_run": self.dry_run,
                "failed": [{"where": w, "reason": r} for w, r in self.failed]}


def read_source(source: Path, verdict: str | None, note: str) -> list[Row | tuple[str, str]]:
    """The rows of a directory or CSV file; a row that is wrong on its face is ``(where, why)`` already."""
    if source.is_dir():
        if verdict is None:
            raise BadInput("importing a directory needs --verdict (rejected or approved)")
        unreadable: list[OSError] = []
        rows: list[Row | tuple[str, str]] = [Row(str(path.relative_to(source)), verdict, note, path=path)
                                             for path in sorted(_walk(source, unreadable.append))]
        return rows + [(str(Path(e.filename).relative_to(source)), local.os_reason(e)) for e in unreadable]
    if not source.is_file():
        raise BadInput(f"{str(source)!r} is neither a directory nor a file")
    if source.suffix.lower() != ".csv":
        raise BadInput(f"{str(source)!r}: give a directory of media files or a .csv file")
    return list(_csv_rows(source, verdict, note))


def _walk(root: Path, onerror: Callable[[OSError], None]) -> Iterator[Path]:
    for here, dirs, files in os.walk(root, onerror=onerror):  # a symlinked directory is not entered
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield from (Path(here) / f for f in sorted(files) if not f.startswith("."))


def _csv_rows(source: Path, verdict: str | None, note: str) -> Iterator[Row | tuple[str, str]]:
    try:
        with open(source, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = [h.strip().lower() for h in next(reader, [])]
            unknown = [h for h in header if h not in COLUMNS]
            if unknown or len(set(header)) < len(header) or not {"path", "content_key"} & set(header):
                raise BadInput(f"{source}: line 1 must name the columns, each once: path or content_key, and "
                               f"optionally pdq, verdict, note" + (f" (unknown: {', '.join(unknown)})" if unknown
                                                                  else ""))
            rows, line = [], reader.line_num + 1
            for fields in reader:  # a quoted field may hold line breaks: a row is named by its first line
                rows.append((line, fields))
                line = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise BadInput(f"{source} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except (OSError, csv.Error) as exc:
        raise BadInput(f"{source} cannot be read as CSV: {exc}") from None
    for line, fields in rows:
        if not any(f.strip() for f in fields):
            continue  # a blank line
        if len(fields) != len(header):
            yield f"line {line}", f"{len(fields)} fields, the header names {len(header)}"
            continue
        yield _csv_row(line, dict(zip(header, (f.strip() for f in fields))), source.parent, verdict, note)


def _csv_row(line: int, cells: dict, base: Path, verdict: str | None, note: str) -> Row | tuple[str, str]:
    path, key, pdq = cells.get("path", ""), cells.get("content_key", ""), cells.get("pdq", "")
    where, verdict = f"line {line}" + (f" ({path})" if path else ""), cells.get("verdict") or verdict
    if bool(path) == bool(key):
        return where, "give a path or a content_key (one of them)"
    if not verdict:
        return where, "no verdict: give a verdict column or --verdict"
    if key and not (_HEX64.match(key) or (key.startswith("s3:") and not key.startswith("s3://") and "@" in key)):
        return where, f"content_key {key[:80]!r} is neither 64 hex digits nor s3:bucket/key@version"
    if pdq and (path or not _HEX64.match(pdq)):
        return where, ("pdq goes with a content_key (a file's is computed)" if path
                       else f"pdq {pdq[:80]!r} is not 64 hex digits")
    return Row(where, verdict, cells.get("note") or note, path=base / path if path else None,
               content_key=key.lower() if _HEX64.match(key) else key, pdq=pdq.lower() or None)


def hash_file(path: Path, max_image_bytes: int) -> tuple[str, str | None]:
    """(sha256, PDQ hex or None) of an image or video file, as a worker keys it; ``BadInput`` otherwise."""
    if not path.is_file():  # a FIFO would block the reader
        raise BadInput("no such file" if not path.exists() else "not a regular file")
    with local.open_file(path) as fh:
        head = fh.read(32)
        kind = uris.kind_of(uris.sniff(head))
        if kind is None:
            raise BadInput("not an image or video modq moderates" if head else "file is empty (0 bytes)")
        if kind == "video":  # exact matches only, the whole file streamed
            fh.seek(0)
            return hashlib.file_digest(fh, "sha256").hexdigest(), None
    data = local.read_file(path, max_image_bytes)
    try:
        pdq = banks.pdq_hex(imaging.prepare(data).pil())
    except BadInput:  # an image PIL will not decode: exact matches still work
        pdq = None
    return hashlib.sha256(data).hexdigest(), pdq


class _RolledBack(Exception):
    """Ends a dry run's transaction: everything it did is undone."""


def import_rows(database_url: str, rows: list[Row | tuple[str, str]], *, source: str, added_by: str,
                max_image_bytes: int, dry_run: bool = False, batch: int = 200,
                on_progress: OnProgress | None = None) -> Result:
    """Bank ``rows``: each batch's files hashed outside any transaction, then the batch in one transaction (a
    dry run: all batches in one, rolled back). ``on_progress(done, total)``: from 0, one row at a time, to
    ``total`` once the last batch is stored."""
    result, total = Result(dry_run=dry_run), len(rows)
    report = on_progress or (lambda done, total: None)
    report(0, total)
    batches = [(start, rows[start:start + batch]) for start in range(0, total, batch)]
    if not dry_run:
        for start, chunk in batches:
            keyed = _keyed(chunk, start, total, max_image_bytes, report)
            with transaction(database_url) as s:
                _bank(s, keyed, source, added_by, result)
            report(start + len(chunk), total)
        return result
    try:
        with transaction(database_url) as s:  # the same checks as an import, against what it would have added
            for start, chunk in batches:
                _bank(s, _keyed(chunk, start, total, max_image_bytes, report), source, added_by, result)
                report(start + len(chunk), total)
            raise _RolledBack
    except _RolledBack:
        return result


def _keyed(chunk: list, start: int, total: int, max_image_bytes: int, report: OnProgress) -> list:
    """The chunk with each file's content key and PDQ hash, or ``(where, why)`` for a file that has none."""
    keyed = []
    for i, row in enumerate(chunk):
        if i:
            report(start + i, total)
        if isinstance(row, tuple) or row.path is None:
            keyed.append(row)
            continue
        try:
            key, pdq = hash_file(row.path, max_image_bytes)
        except BadInput as exc:
            keyed.append((row.where, str(exc)))
            continue
        except OSError as exc:
            keyed.append((row.where, local.os_reason(exc)))
            continue
        keyed.append(Row(row.where, row.verdict, row.note, content_key=key, pdq=pdq))
    return keyed


def _bank(s: Session, keyed: list, source: str, added_by: str, result: Result) -> None:
    for row in keyed:
        if isinstance(row, tuple):
            result.failed.append(row)
            continue
        try:  # add refuses (a bad verdict, the other verdict banked already) before it stores anything
            _, created = banks.add(s, row.content_key, row.verdict, note=row.note, source=source,
                                   added_by=added_by, pdq=row.pdq)
        except BadInput as exc:
            result.failed.append((row.where, str(exc)))
            continue
        if created:
            result.added += 1
        else:
            result.already += 1
