"""``modq submit --from FILE``: many items from an NDJSON or CSV file (``items.from_file``), with a progress bar
on stderr and a summary of created / already known / refused; each refused line on stderr with its number."""

from __future__ import annotations

import json

import typer

from config.settings import get_settings
from moderation.cli.common import error, fail, out_line, runtime, warn
from moderation.cli.progress import bar
from moderation.domain.errors import ModqError
from moderation.infra import setup_errors
from moderation.items import from_file
from moderation.items.submission import Origin


def submit_from(source: str, batch: int, as_json: bool, origin: Origin) -> None:
    """Submit every line of ``source`` for ``origin``; exit 1 if a line was refused (the others are stored all
    the same)."""
    try:
        with bar("submitting", "lines") as on_progress:
            outcome = from_file.submit_file(source, runtime(), batch=batch, on_progress=on_progress, origin=origin)
    except ModqError as exc:
        fail(str(exc))
    if as_json:
        print(json.dumps(outcome.to_dict(), indent=2))
    else:
        for line, why in outcome.refused:
            error(f"line {line}: {why}")
        name = "stdin" if source == "-" else source
        out_line.print(f"{name}: created {outcome.created}, already known {outcome.known}, refused "
                  f"{len(outcome.refused)}", highlight=False, markup=False)
    if outcome.not_sent:
        broker = setup_errors.shown(get_settings().broker_url)
        warn(f"{outcome.not_sent} stored, but the broker at {broker} (MODQ_BROKER_URL) did not take their tasks; "
             "the reaper re-sends them once the broker answers")
    if outcome.refused:
        raise typer.Exit(1)
