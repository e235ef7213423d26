"""``--plot DIR`` and ``--curve FILE.csv`` of ``policy recommend`` and ``policy simulate``: the precision/recall
curve per category, as PNGs and as CSV. The paths are checked before the command does anything, so a bad one
ends it with one line and nothing written."""

from __future__ import annotations

import tempfile
from pathlib import Path

from rich.console import Console

from moderation.cli.common import fail
from moderation.policy import curves as curves_mod

PLOT_HELP = "Write a PNG per category (precision/recall against the flag threshold) into this directory"
CURVE_HELP = "Write the curve data as CSV (category, threshold, precision, recall, support, ...)"


def check(plot_dir: Path | None, curve_file: Path | None) -> None:
    """End the command (exit 2, nothing written) if an output could not be written."""
    if plot_dir is not None and (problem := _dir_problem(plot_dir)):
        fail(f"--plot {plot_dir}: {problem}")
    if curve_file is not None and (problem := _file_problem(curve_file)):
        fail(f"--curve {curve_file}: {problem}")


def _dir_problem(path: Path) -> str | None:
    if path.exists() and not path.is_dir():
        return "not a directory (a file of that name exists)"
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        return f"{existing} is a file, not a directory"
    return _unwritable(existing)


def _file_problem(path: Path) -> str | None:
    if path.is_dir():
        return "is a directory; give a file name, e.g. curves.csv"
    if not path.parent.is_dir():
        return f"no directory {path.parent} to write it in"
    return _unwritable(path.parent)


def _unwritable(directory: Path) -> str | None:
    """Why nothing can be created in ``directory`` (tried with a nameless file, gone at once), or None."""
    try:
        with tempfile.TemporaryFile(dir=directory):
            return None
    except OSError as exc:
        return f"cannot write in {directory}: {exc.strerror or exc}"


def write(found: list[curves_mod.Curve], provider: str, plot_dir: Path | None, curve_file: Path | None,
          say: Console) -> None:
    """Draw and write what was asked for, then say where it went."""
    images = {}
    if plot_dir is not None:
        from moderation.policy import plot  # heavy: matplotlib adds ~0.4 s to every modq start; only --plot needs it

        images = {plot_dir / plot.file_name(c): plot.png(c) for c in found}
    try:
        if plot_dir is not None:
            plot_dir.mkdir(parents=True, exist_ok=True)
            for path, data in images.items():
                path.write_bytes(data)
        if curve_file is not None:
            curve_file.write_text(curves_mod.csv_text(found), encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {exc.filename}: {exc.strerror}" if exc.filename else f"cannot write the curves: {exc}")
    if not found:
        say.print(f"no reviewed {provider} items in the window: no precision/recall curve to draw",
                  highlight=False, markup=False)
    if plot_dir is not None and found:
        say.print(f"wrote {len(images)} precision/recall plot{'s' if len(images) != 1 else ''} to {plot_dir}",
                  highlight=False, markup=False, soft_wrap=True)
    if curve_file is not None:
        say.print(f"wrote the curve data ({sum(len(c.points) for c in found)} points) to {curve_file}",
                  highlight=False, markup=False, soft_wrap=True)
