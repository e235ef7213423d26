"""Reviewer preferences and accessibility in headless Chromium (issue 17.8-9): single-key shortcuts off and on,
media not blurred by default, grayscale after reveal, videos muted, the skip link, form field borders of at
least 3:1 contrast, video markers named for screen readers (m:ss), and the video keys (j/k/l, ',' and '.').
Screens are checked by assertion (attributes, computed style, the video's currentTime)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.items import services as service
from moderation.review.models import Review
from moderation.video import services as video
from tests.e2e.conftest import screenshot
from tests.fakes.providers import ColorFrameProvider
from tests.media_factory import GREEN, segments, video_bytes
from tests.review_items import decided_item

pytestmark = pytest.mark.e2e
CHECKBOXES = ("blur_by_default", "grayscale_after_reveal", "video_muted", "shortcuts")


def set_preferences(page, base_url: str, **wanted: bool) -> None:
    """Tick or untick the Preferences page's own checkboxes, as a reviewer does, and save."""
    page.goto(base_url + "/preferences")
    for key, value in wanted.items():
        page.set_checked(f"#own-{key}", value)
    page.click("#prefs-form button[type=submit]")
    page.wait_for_url("**/preferences?saved=own")
    assert page.locator("#prefs-saved").is_visible()
    for key, value in wanted.items():
        assert page.is_checked(f"#own-{key}") is value


def claim(page, base_url: str, item_id: str) -> None:
    page.goto(f"{base_url}/items/{item_id}")
    page.click("#claim-form button[type=submit]")
    page.wait_for_url(f"**/items/{item_id}")
    page.locator("#review-form").wait_for()


def review_of(rt, item_id: str) -> str | None:
    with transaction(rt.settings.database_url) as s:
        return s.scalar(select(Review.verdict).where(Review.item_id == item_id))


def test_with_shortcuts_off_a_key_does_nothing_and_with_them_on_it_reviews(rt, media_root, fake_provider, console):
    base_url, _, page, errors, _ = console
    item_id = decided_item(rt, media_root, fake_provider, "Hate Symbols", 70)
    set_preferences(page, base_url, shortcuts=False)
    screenshot(page, "console-preferences", full_page=True)
    claim(page, base_url, item_id)
    assert page.get_attribute("body", "data-shortcuts") == "off"
    assert "Keyboard shortcuts are off" in page.inner_text("footer")
    # a submission would start inside the key's handler, which has run when press() returns
    page.evaluate("() => { window.submitted = false; document.addEventListener('submit', () => "
                  "{ window.submitted = true; }, true); }")
    for key in ("a", "r", "n", "?"):
        page.keyboard.press(key)
    assert page.evaluate("() => window.submitted") is False
    assert page.locator("#help").is_hidden() and page.url.endswith(f"/items/{item_id}")
    assert page.inner_text("#item-status") == "flagged" and review_of(rt, item_id) is None

    set_preferences(page, base_url, shortcuts=True)
    page.goto(f"{base_url}/items/{item_id}")  # still leased to alice
    page.locator("#review-form").wait_for()
    assert page.get_attribute("body", "data-shortcuts") == "on"
    page.keyboard.press("a")
    page.wait_for_url(lambda url: not url.endswith(f"/items/{item_id}"))
    assert review_of(rt, item_id) == "approved"
    assert errors == [], errors


def test_media_unblurred_by_preference_and_grayscale_after_reveal(rt, media_root, fake_provider, console):
    base_url, _, page, errors, _ = console
    item_id = decided_item(rt, media_root, fake_provider, "Hate Symbols", 70)
    image = page.locator("#media img")
    filter_of = "el => getComputedStyle(el).filter"

    page.goto(f"{base_url}/items/{item_id}")  # built-in defaults: blurred until revealed, in colour after
    assert "blurred" in page.get_attribute("#media", "class") and "blur(" in image.evaluate(filter_of)
    page.click("#reveal")
    assert image.evaluate(filter_of) == "none"

    set_preferences(page, base_url, grayscale_after_reveal=True)
    page.goto(f"{base_url}/items/{item_id}")
    assert "blur(" in image.evaluate(filter_of)  # still blurred: grayscale comes after the reveal
    page.click("#reveal")
    assert image.evaluate(filter_of) == "grayscale(1)"

    set_preferences(page, base_url, blur_by_default=False, grayscale_after_reveal=False)
    page.goto(f"{base_url}/items/{item_id}")
    assert "blurred" not in page.get_attribute("#media", "class")
    assert image.evaluate(filter_of) == "none" and page.locator("#reveal").is_hidden()
    page.keyboard.press("b")  # the reviewer can still blur it by hand
    assert "blur(" in image.evaluate(filter_of)
    assert errors == [], errors


def test_the_skip_link_is_the_first_tab_stop_and_moves_focus_to_the_content(rt, media_root, fake_provider, console):
    base_url, _, page, errors, _ = console
    item_id = decided_item(rt, media_root, fake_provider, "Hate Symbols", 70)
    for path in ("/", f"/items/{item_id}", "/preferences"):
        page.goto(base_url + path)
        skip = page.locator("a.skip")
        assert skip.bounding_box()["x"] < 0  # off screen until focused
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.className") == "skip"
        assert skip.inner_text() == "Skip to content" and skip.bounding_box()["x"] >= 0
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.activeElement.id === 'main'")
        page.keyboard.press("Tab")  # the next stop is inside the content, not the navigation
        assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")
    assert errors == [], errors


# --- contrast (WCAG 1.4.11: a form field's border against what is next to it, at least 3:1) ----------------

FIELD_COLOURS = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && el.type !== 'checkbox' && el.type !== 'radio' && el.offsetParent !== null)
  .map(el => {
    let around = el.parentElement;
    while (around && getComputedStyle(around).backgroundColor === 'rgba(0, 0, 0, 0)') around = around.parentElement;
    return {name: el.name || el.id, border: getComputedStyle(el).borderTopColor,
            inside: getComputedStyle(el).backgroundColor,
            outside: around ? getComputedStyle(around).backgroundColor : 'rgb(255, 255, 255)'};
  })"""


def luminance(css: str) -> float:
    """WCAG 2.1 relative luminance of an opaque ``rgb(r, g, b)``."""
    r, g, b = (int(v) / 255 for v in re.findall(r"\d+", css)[:3])
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_function():
    assert contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21)
    assert contrast("rgb(118, 118, 118)", "rgb(255, 255, 255)") == pytest.approx(4.54, abs=0.01)
    assert contrast("rgb(217, 221, 229)", "rgb(255, 255, 255)") < 1.5  # the old border: too faint


def test_form_field_borders_have_at_least_3_to_1_contrast(rt, media_root, fake_provider, console):
    base_url, _, page, errors, _ = console
    item_id = decided_item(rt, media_root, fake_provider, "Hate Symbols", 70)
    checked = 0
    for path in ("/", "/preferences", "/audit", f"/items/{item_id}"):
        page.goto(base_url + path)
        if path.startswith("/items/"):
            page.click("#claim-form button[type=submit]")
            page.locator("#reason").wait_for()
        for field in page.evaluate(FIELD_COLOURS):
            assert "rgba" not in field["border"], field  # an opaque border: the ratio is what shows
            for background in (field["inside"], field["outside"]):
                ratio = contrast(field["border"], background)
                assert ratio >= 3, f"{path} {field['name']}: {field['border']} on {background} is {ratio:.2f}:1"
            checked += 1
    assert checked >= 5  # the queue's filters, the audit search, the reason
    assert errors == [], errors


# --- video -----------------------------------------------------------------------------------------------------


@pytest.fixture
def flagged_video(rt, media_root):
    """A 30 s clip the offline pipeline (1 frame a second, judged by colour) flags where it is green: 3 s, 12 s."""
    (media_root / "clip.mp4").write_bytes(video_bytes(seconds=30, fps=5, faststart=True,
                                                      scene=segments((3, 4, GREEN), (12, 13, GREEN))))
    provider, rt._provider = rt._provider, ColorFrameProvider()
    try:
        item_id = service.submit("clip.mp4", rt=rt).item_id
        assert video.start(item_id, rt=rt) == m.FLAGGED
    finally:
        rt._provider = provider
    return item_id


def current_time(page) -> float:
    return page.evaluate("() => document.querySelector('#player').currentTime")


def test_video_markers_are_named_in_m_ss_and_the_keys_move_the_video(rt, console, flagged_video):
    base_url, _, page, errors, _ = console
    page.goto(f"{base_url}/items/{flagged_video}")
    player = page.locator("#player")
    assert player.get_attribute("muted") is not None and player.evaluate("v => v.muted") is True
    labels = page.locator("#timeline .marker").evaluate_all("ms => ms.map(m => m.getAttribute('aria-label'))")
    assert labels and all(re.fullmatch(r".+ \d+(\.\d)?% at \d+:\d\d", label) for label in labels), labels
    assert {label.rsplit(" at ", 1)[1] for label in labels} == {"0:03", "0:12"}
    assert page.get_attribute("#timeline", "role") == "group"
    moments = page.locator(".moments button").all_inner_texts()
    assert set(moments) == {"0:03", "0:12"}  # m:ss, not "12.0s"
    page.wait_for_function("() => document.querySelector('#player').readyState >= 1")  # seekable

    page.keyboard.press(".")
    assert current_time(page) == 3
    page.keyboard.press(".")
    assert current_time(page) == 12
    page.keyboard.press(".")  # no marker after the last: it stays
    assert current_time(page) == 12
    page.keyboard.press(",")
    assert current_time(page) == 3
    page.keyboard.press("l")
    assert current_time(page) == 13
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert current_time(page) == 0  # not before the start
    page.keyboard.press("k")
    page.wait_for_function("() => !document.querySelector('#player').paused")
    page.keyboard.press("k")
    page.wait_for_function("() => document.querySelector('#player').paused")
    assert "blurred" in page.get_attribute("#media", "class")  # moving through it does not reveal it

    set_preferences(page, base_url, video_muted=False, shortcuts=False)
    page.goto(f"{base_url}/items/{flagged_video}")
    assert player.get_attribute("muted") is None and player.evaluate("v => v.muted") is False
    page.wait_for_function("() => document.querySelector('#player').readyState >= 1")
    page.keyboard.press(".")
    page.keyboard.press("l")
    assert current_time(page) == 0  # shortcuts off: the video keys are single keys too
    assert errors == [], errors
