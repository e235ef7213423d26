"""Choosing the frames of an animation to analyse (pure): every distinct picture while they fit under
the cap; past it, the first, the longest shown, then evenly over display time."""

from __future__ import annotations

import pytest

from moderation.domain.frame_selection import Frame, choose, display_ms, distinct


def timeline(*spec: tuple[str, int]) -> list[Frame]:
    """``("a", 50), ("b", 10000)``: frames showing picture ``a`` for 50 ms, then ``b`` for 10 s."""
    frames, offset = [], 0
    for index, (picture, shown) in enumerate(spec):
        frames.append(Frame(index, offset, shown, picture))
        offset += shown
    return frames


def run(spec: str, shown: int = 100) -> list[tuple[str, int]]:
    """``"abcb"``: one picture per letter, each frame ``shown`` ms."""
    return [(letter, shown) for letter in spec]


@pytest.mark.parametrize("declared, shown", [
    (None, 100), (0, 100), (10, 100),  # browsers show "as fast as possible" frames for 100 ms
    (20, 20), (50, 50), (10_000, 10_000), (33.4, 33),
])
def test_display_time_follows_the_browsers(declared, shown):
    assert display_ms(declared) == shown


def test_identical_frames_are_one_picture_with_their_display_times_added():
    frames = timeline(("a", 50), ("b", 100), ("a", 70), ("c", 10), ("b", 30))
    assert [(d.digest, d.index, d.offset_ms, d.shown, d.indexes) for d in distinct(frames)] == [
        ("a", 0, 0, 120, (0, 2)), ("b", 1, 50, 130, (1, 4)), ("c", 3, 220, 10, (3,))]


@pytest.mark.parametrize("spec, cap, last_stays, chosen", [
    # every distinct picture while they fit, whatever their display time
    ([("a", 50), ("b", 10_000)], 16, False, "ab"),
    ([("a", 50), ("b", 10_000), ("a", 50), ("b", 10_000)], 2, False, "ab"),
    (run("abcdefgh"), 8, False, "abcdefgh"),
    # past the cap: the first frame and the longest-shown frame are never dropped
    ([("a", 10)] + run("bcdefg") + [("z", 5_000)], 2, False, "az"),
    ([("a", 10)] + [("z", 5_000)] + run("bcdefg"), 2, False, "az"),
    (run("abcdefg") + [("z", 200)], 2, False, "az"),
    # a picture shown in many short frames is "longest" by its total
    ([("a", 100), ("b", 300), ("c", 100), ("d", 200), ("c", 100), ("e", 100), ("c", 100)], 2, False, "ab"),
    ([("a", 100), ("b", 300), ("c", 200), ("d", 200), ("c", 200), ("e", 100)], 2, False, "ac"),
    # equal display times: evenly spread over the rest of the animation, not its first few frames
    (run("abcdefghijklmnop"), 4, False, "adin"),
    (run("abcdefghijklmnopqrst"), 5, False, "adimr"),
    # a long first frame does not hide a late run of short distinct frames
    ([("a", 5_000)] + run("bcdefghijk"), 3, False, "adi"),
    # ... by display time: a picture shown longer is likelier to be on screen at a moment
    ([("a", 100), ("z", 9_000), ("b", 150), ("c", 150), ("d", 100)], 3, False, "azc"),
    ([("a", 100), ("z", 9_000), ("b", 100), ("c", 250), ("d", 100), ("e", 100)], 3, False, "azc"),
    ([("a", 100), ("z", 9_000), ("b", 100), ("c", 150), ("d", 100)], 4, False, "azbd"),
    # moments that fall twice on one picture leave a slot: the next round fills it from what is left
    ([("a", 100), ("z", 9_000), ("b", 1_000), ("c", 10), ("d", 10)], 4, False, "azbd"),
    # a limited number of plays ends on the last frame, which then stays on screen: it is the longest shown
    (run("abcdef") + [("z", 10)], 2, True, "az"),
    ([("a", 100), ("y", 5_000)] + run("bcde") + [("z", 10)], 2, True, "az"),
    ([("a", 100), ("y", 5_000)] + run("bcde") + [("z", 10)], 3, True, "ayz"),
    # the last frame repeats the first: the first is chosen once, the other slot goes to the rest
    (run("abcdea"), 2, True, "ad"),
])
def test_choice_past_the_cap(spec, cap, last_stays, chosen):
    picked = choose(timeline(*spec), cap, last_stays)
    assert "".join(p.digest for p in picked) == chosen
    assert [p.index for p in picked] == sorted(p.index for p in picked)  # in order of appearance


@pytest.mark.parametrize("count, cap", [(17, 16), (100, 16), (1000, 16), (40, 2), (40, 39)])
def test_exactly_the_cap_is_chosen_and_always_the_first_and_longest(count, cap):
    frames = timeline(*[(f"p{i}", 100 + (i * 37) % 90) for i in range(count)])
    longest = max(frames, key=lambda f: (f.shown, -f.index))
    picked = {p.digest for p in choose(frames, cap)}
    assert len(picked) == cap and {"p0", longest.digest} <= picked


def test_pages_weigh_the_same_and_are_spread_over_the_document():
    pages = [Frame(i, None, 1, f"page{i}") for i in range(10)]
    assert [p.index for p in choose(pages, 3)] == [0, 3, 7]  # the first ("longest" too, on a tie), then spread


def test_a_cap_under_two_is_refused():
    with pytest.raises(ValueError, match="at least 2"):
        choose(timeline(("a", 1), ("b", 1), ("c", 1)), 1)
