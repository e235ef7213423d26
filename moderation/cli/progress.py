"""Progress of long commands: a rich progress bar on stderr, so stdout (``--json``) stays the command's output.

``with bar("re-evaluating") as on_progress:`` hands a use case an ``on_progress(done, total)`` callback
(the signature ``policy.reevaluate``, ``policy.replay.simulate`` and ``banks.imports`` call). The bar is
drawn only when stderr is a terminal: piped or in a log it would be noise, and the command's summary line
says what was done. ``TTY_COMPATIBLE=1`` (rich's own switch) forces it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from moderation.cli.common import err

OnProgress = Callable[[int, int], None]


@contextmanager
def bar(description: str, unit: str = "items") -> Iterator[OnProgress]:
    """An ``on_progress(done, total)`` that moves a bar on stderr (nothing when stderr is no terminal)."""
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
                        TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                        console=err, disable=not err.is_terminal)
    with progress:
        task = progress.add_task(description, total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield on_progress
