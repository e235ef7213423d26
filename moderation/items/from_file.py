"""Items from a file (``modq submit --from FILE``): NDJSON or CSV, submitted in batches (``submit_many``).

NDJSON (any name but ``*.csv``; ``-`` reads it from stdin): one JSON object per line. CSV (``*.csv``, UTF-8, a
header row naming its columns, in any order). Either way the fields are

``uri``          s3://bucket/key, file:///path or a path under MODQ_MEDIA_ROOT (``media_uri`` is taken too);
``external_id``  optional: your id, idempotent as for one submit;
``metadata``     optional: a JSON object (in CSV, its JSON text);
``media_type``   optional: ``image`` or ``video`` (default: from the content or the extension);
``subject_id``   optional: the uploader's account on the platform (1-255 printable characters).

Every line is created, already known (its external_id, here or earlier in the file) or refused with its line
number and why; a refused line never holds the others back. A file that cannot be read at all (missing, a
CSV header that names no ``uri``) is ``BadInput`` before anything is stored.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from moderation.domain.errors import BadInput, RefusedSubmission
from moderation.items.submission import DEFAULT_ORIGIN, Entry, Origin, submit_many

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

FIELDS = ("uri", "external_id", "metadata", "media_type", "subject_id")
OnProgress = Callable[[int, int | None], None]  # (lines read, lines in the file; None: unknown, stdin)
Parsed = Entry | str | None  # an entry, why the line is refused, or nothing (a blank line)


@dataclass
class Outcome:
    created: int = 0
    known: int = 0  # its external_id was stored before, or earlier in this file
    refused: list[tuple[int, str]] = field(default_factory=list)  # (line, why), in line order
    not_sent: int = 0  # created, but the broker did not take the task: the reaper re-sends it

    def to_dict(self) -> dict:
        return {"created": self.created, "already_known": self.known, "refused": len(self.refused),
                "not_sent": self.not_sent, "refused_lines": [{"line": n, "reason": r} for n, r in self.refused]}


def submit_file(source: str, rt: Runtime, batch: int = 500, on_progress: OnProgress | None = None,
                origin: Origin = DEFAULT_ORIGIN) -> Outcome:
    """Submit every line of ``source`` (a path, or ``-``: NDJSON on stdin) for ``origin``'s tenant, ``batch``
    lines per ``submit_many``."""
    report = on_progress or (lambda done, total: None)
    outcome, pending, line = Outcome(), [], 0
    with _opened(source) as fh:
        total = _count_lines(source)
        report(0, total)
        for line, parsed in _csv_lines(fh, source) if source.lower().endswith(".csv") else _ndjson_lines(fh):
            if isinstance(parsed, str):
                outcome.refused.append((line, parsed))
            elif parsed is not None:
                pending.append((line, parsed))
            if len(pending) >= batch:
                _submit(pending, rt, outcome, origin)
                pending = []
                report(line, total)
        _submit(pending, rt, outcome, origin)
        report(total if total is not None else line, total)
    outcome.refused.sort()
    return outcome


def _submit(pending: list[tuple[int, Entry]], rt: Runtime, outcome: Outcome, origin: Origin) -> None:
    if not pending:
        return
    for (line, _), result in zip(pending, submit_many([entry for _, entry in pending], rt=rt, origin=origin)):
        if isinstance(result, RefusedSubmission):
            outcome.refused.append((line, str(result)))
        elif result.created:
            outcome.created += 1
            outcome.not_sent += not result.dispatched
        else:
            outcome.known += 1


@contextmanager
def _opened(source: str) -> Iterator[IO[bytes]]:
    """The source, read as binary lines: a file, or stdin for ``-``."""
    if source == "-":
        yield sys.stdin.buffer
        return
    path = Path(source)
    if not path.is_file():
        raise BadInput(f"--from {source}: " + ("no such file" if not path.exists() else "not a file"))
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise BadInput(f"--from {source} cannot be read: {exc.strerror}") from None
    with fh:
        yield fh


def _count_lines(source: str) -> int | None:
    """Lines in the file, for the progress bar (a last line without a line break counts); None for stdin."""
    if source == "-":
        return None
    lines, last = 0, b"\n"
    with open(source, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            lines, last = lines + chunk.count(b"\n"), chunk[-1:]
    return lines + (last != b"\n")


def _ndjson_lines(fh: IO[bytes]) -> Iterator[tuple[int, Parsed]]:
    for line, raw in enumerate(fh, start=1):
        yield line, _ndjson_entry(raw)


def _ndjson_entry(raw: bytes) -> Parsed:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text: {exc.reason} at byte {exc.start}"
    if not text.strip():
        return None
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        return f"not valid JSON: {exc}"
    if not isinstance(value, dict):
        return f"a JSON {_kind(value)}, not an object with {', '.join(FIELDS)}"
    return entry(value)


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _csv_lines(fh: IO[bytes], source: str) -> Iterator[tuple[int, Parsed]]:
    # Bytes that are not UTF-8 become lone surrogates, named for their row below instead of ending the file.
    text = (raw.decode("utf-8-sig" if n == 0 else "utf-8", "surrogateescape") for n, raw in enumerate(fh))
    reader = csv.reader(text)
    try:
        header = [h.strip().lower() for h in next(reader, [])]
    except csv.Error as exc:
        raise BadInput(f"--from {source} cannot be read as CSV: {exc}") from None
    if "media_uri" in header and "uri" not in header:  # the API's name for it
        header = ["uri" if h == "media_uri" else h for h in header]
    unknown = [h for h in header if h not in FIELDS]
    if unknown or len(set(header)) < len(header) or "uri" not in header:
        raise BadInput(f"--from {source}: line 1 must name the columns, each once: uri, and optionally "
                       f"external_id, metadata, media_type, subject_id" + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
    line = reader.line_num + 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a row the CSV reader cannot split; the next line starts afresh
            yield line, f"not valid CSV: {exc}"
            line = reader.line_num + 1
            continue
        yield line, _csv_entry(fields, header)  # a quoted field may hold line breaks: a row is its first line
        line = reader.line_num + 1


def _csv_entry(fields: list[str], header: list[str]) -> Parsed:
    if not any(f.strip() for f in fields):
        return None
    if len(fields) != len(header):
        return f"{len(fields)} fields, the header names {len(header)}"
    cells = dict(zip(header, (f.strip() for f in fields)))
    if any(_undecoded(v) for v in cells.values()):
        return "not UTF-8 text"
    if cells.get("metadata"):
        try:
            cells["metadata"] = json.loads(cells["metadata"], parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            return f"metadata is not valid JSON: {exc}"
    return entry({k: v for k, v in cells.items() if v != ""})


def _undecoded(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def entry(fields: dict[str, Any]) -> Entry | str:
    """One line's fields as an ``Entry``, or why they cannot be one (``submit_many`` checks the rest)."""
    if "media_uri" in fields:
        if "uri" in fields:
            return "give uri or media_uri, not both"
        fields = {("uri" if k == "media_uri" else k): v for k, v in fields.items()}
    unknown = sorted(k for k in fields if k not in FIELDS)
    if unknown:
        return f"unknown field {', '.join(map(repr, unknown))}: a line has {', '.join(FIELDS)}"
    uri, external_id, metadata = fields.get("uri"), fields.get("external_id"), fields.get("metadata")
    media_type, subject_id = fields.get("media_type"), fields.get("subject_id")
    if not isinstance(uri, str) or not uri.strip():
        return "no uri" if uri is None or uri == "" else f"uri must be a string, not {_kind(uri)}"
    if external_id is not None and not isinstance(external_id, str):
        return f"external_id must be a string, not {_kind(external_id)}"
    if metadata is not None and not isinstance(metadata, dict):
        return f"metadata must be a JSON object, not {_kind(metadata)}"
    if media_type not in (None, "image", "video"):
        return f"media_type must be image or video, not {str(media_type)[:40]!r}"
    if subject_id is not None and not isinstance(subject_id, str):
        return f"subject_id must be a string, not {_kind(subject_id)}"
    return Entry(uri, external_id, metadata, media_type, subject_id)


def _kind(value: Any) -> str:
    names: Iterable[tuple[type, str]] = ((bool, "boolean"), (int, "number"), (float, "number"), (str, "string"),
                                         (list, "array"), (dict, "object"))
    return next((name for t, name in names if isinstance(value, t)), "null")
