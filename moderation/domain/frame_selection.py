"""Which frames of an animation (or pages of a document) are analysed: pure, no I/O.

Every distinct frame counts, identical frames (same pixels) once. When there
are more distinct frames than the cap (``MODQ_ANIMATION_MAX_FRAMES``) the
choice follows display time, the way a viewer meets the frames:

1. the first frame (what a thumbnail or a paused player shows);
2. the frame shown longest in total (an animation that plays a limited number
   of times stops on its last frame, which then stays on screen for ever);
3. the pictures on screen at evenly spaced moments of the rest of the
   animation played back to back (the frames not yet chosen), so the choice
   follows display time yet reaches every part of the file: a long run of
   short frames late in a file is sampled too, not skipped for early ones.
   Moments that fall on one picture twice leave slots: the step repeats on
   what is still not chosen until the cap is reached.

A page of a multi-page TIFF has no display time: each page weighs the same.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

# Browsers show a frame that asks for 10 ms or less for 100 ms (Firefox and Chromium, for GIF, APNG
# and WebP alike): a "0 ms" frame is on screen for a tenth of a second, not never.
BROWSER_MIN_DELAY_MS = 10
BROWSER_DEFAULT_DELAY_MS = 100
PAGE_WEIGHT = 1  # a TIFF page: no time, every page counts the same


@dataclass(frozen=True)
class Frame:
    """One frame as decoded: where it is, how long it is shown, what it looks like."""

    index: int
    offset_ms: int | None  # when it first appears; None for a page
    shown: int  # display time in ms (after the browser rule), or PAGE_WEIGHT for a page
    digest: str  # sha256 of its pixels as analysed


@dataclass(frozen=True)
class Distinct:
    """A distinct picture: its first appearance, and every frame that shows it."""

    index: int
    offset_ms: int | None
    shown: int  # total over its appearances
    digest: str
    indexes: tuple[int, ...]


def display_ms(declared: float | None) -> int:
    """How long a browser shows a frame that declares ``declared`` ms."""
    if declared is None or declared <= BROWSER_MIN_DELAY_MS:
        return BROWSER_DEFAULT_DELAY_MS
    return int(round(declared))


def distinct(frames: list[Frame]) -> list[Distinct]:
    """The distinct pictures in order of first appearance, with their total display time."""
    groups: dict[str, list[Frame]] = {}
    for frame in frames:
        groups.setdefault(frame.digest, []).append(frame)
    return [Distinct(first.index, first.offset_ms, sum(f.shown for f in same), first.digest,
                     tuple(f.index for f in same)) for first, same in ((g[0], g) for g in groups.values())]


def choose(frames: list[Frame], max_frames: int, last_stays: bool = False) -> list[Distinct]:
    """The distinct pictures to analyse, in order of first appearance (see the module's rules).

    ``last_stays``: the animation plays a limited number of times, so its last frame stays on screen.
    """
    if max_frames < 2:
        raise ValueError("max_frames must be at least 2: the first and the longest-shown frame")
    pictures = distinct(frames)
    if len(pictures) <= max_frames:
        return pictures
    by_digest = {p.digest: p for p in pictures}
    weight = {p.digest: float(p.shown) for p in pictures}
    if last_stays:
        weight[frames[-1].digest] = math.inf
    longest = min(pictures, key=lambda p: (-weight[p.digest], p.index))
    picked = dict.fromkeys([pictures[0].digest, longest.digest])
    while len(picked) < max_frames:  # each round adds at least the picture at its first moment
        rest = [f for f in frames if f.digest not in picked]
        for digest in _on_screen_at_even_moments(rest, max_frames - len(picked)):
            picked.setdefault(digest)
    return sorted((by_digest[d] for d in picked), key=lambda p: p.index)


def _on_screen_at_even_moments(frames: list[Frame], count: int) -> list[str]:
    """The pictures on screen at the middle of each of ``count`` equal stretches of ``frames`` played
    back to back (a picture shown at several of those moments is named each time)."""
    ends = list(accumulate(f.shown for f in frames))
    moments = ((k + 0.5) * ends[-1] / count for k in range(count))
    return [frames[min(bisect_right(ends, t), len(frames) - 1)].digest for t in moments]
