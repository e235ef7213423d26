"""Reading multi-frame images: stills stay stills, sequences are limited from their header, frames are
seen as a viewer sees them."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from moderation.infra.media import frames
from moderation.domain.errors import BadInput
from moderation.infra.media.frame_headers import gif_frame_count, png_is_animated
from tests.animated_media import BLUE, GREY, RED, animated, many_frame_gif, still, tiff_pages

LIMITS = frames.Limits(max_frames=16, max_frame_count=1000, max_total_pixels=250_000_000,
                       max_decode_bytes=256 * 1024**2)
FORMATS = ["gif", "png", "webp", "tiff"]


@pytest.mark.parametrize("data", [
    still("jpeg"), still("png"), still("bmp"), still("gif"), still("webp"), still("tiff"),
    animated("gif", [GREY]), animated("png", [GREY]), animated("webp", [GREY]), animated("tiff", [GREY]),
    b"not an image at all", b"GIF89a",
], ids=["jpeg", "png", "bmp", "gif", "webp", "tiff", "1-frame-gif", "1-frame-apng", "1-frame-webp",
        "1-page-tiff", "text", "truncated-gif"])
def test_a_still_image_is_not_a_sequence(data):
    assert frames.probe(data, LIMITS) is None  # the still path takes it, unchanged


@pytest.mark.parametrize("fmt, what, pages", [("gif", "animated gif", False), ("png", "animated png", False),
                                              ("webp", "animated webp", False), ("tiff", "multi-page tiff", True)])
def test_each_multi_frame_format_is_a_sequence(fmt, what, pages):
    seq = frames.probe(animated(fmt, [BLUE, RED, BLUE]), LIMITS)
    assert (seq.format, seq.what, seq.frame_count, seq.pages, (seq.width, seq.height)) == (fmt, what, 3, pages,
                                                                                           (120, 100))


@pytest.mark.parametrize("loop, stays", [(0, False), (1, True), (None, True)])
def test_a_gif_that_stops_keeps_its_last_frame_on_screen(loop, stays):
    assert frames.probe(animated("gif", [BLUE, RED], loop=loop), LIMITS).last_stays is stays


@pytest.mark.parametrize("fmt", FORMATS)
def test_scan_sees_every_frame_with_its_display_time_and_offset(fmt):
    seq = frames.probe(animated(fmt, [BLUE, RED, BLUE], [50, 10_000, 0]), LIMITS)
    scanned = frames.scan(seq, LIMITS)
    if fmt == "tiff":
        assert [(f.index, f.offset_ms, f.shown) for f in scanned] == [(0, None, 1), (1, None, 1), (2, None, 1)]
    else:  # the "0 ms" last frame is shown for 100 ms, as browsers do
        assert [(f.index, f.offset_ms, f.shown) for f in scanned] == [(0, 0, 50), (1, 50, 10_000), (2, 10_050, 100)]
    assert scanned[0].digest == scanned[2].digest != scanned[1].digest  # the same picture, whatever the format


def test_decode_gives_the_chosen_frames_as_a_viewer_sees_them():
    seq = frames.probe(animated("gif", [BLUE, RED, GREY]), LIMITS)
    seen = [(index, img.mode, img.getpixel((60, 50))) for index, img in frames.decode(seq, [1, 2], LIMITS)]
    assert seen == [(1, "RGB", RED), (2, "RGB", GREY)]


def test_the_same_pixels_have_the_same_digest_in_every_format():
    digests = {fmt: frames.scan(frames.probe(animated(fmt, [BLUE, RED]), LIMITS), LIMITS)[1].digest
               for fmt in FORMATS}
    assert len(set(digests.values())) == 1


def test_ten_thousand_frames_are_refused_from_the_header():
    with pytest.raises(BadInput) as info:
        frames.probe(many_frame_gif(10_000), LIMITS)
    assert str(info.value) == "animated gif has more than 1,000 frames, the limit (MODQ_ANIMATION_MAX_FRAME_COUNT)"


def test_the_frame_count_limit_stops_counting_without_decoding_a_frame():
    # Past the limit the file is cut short mid-frame: decoding would report it; the count never gets there.
    data = many_frame_gif(1_001)[:-4]
    with pytest.raises(BadInput, match="more than 1,000 frames"):
        frames.probe(data, LIMITS)
    assert gif_frame_count(many_frame_gif(50_000), 1_001) == 1_001


def test_too_many_pixels_over_all_frames_are_refused_from_the_header():
    with pytest.raises(BadInput) as info:
        frames.probe(many_frame_gif(300, size=(1000, 1000)), LIMITS)
    assert str(info.value) == ("animated gif has 300,000,000 pixels over its 300 frames, over the limit of "
                               "250,000,000 (MODQ_ANIMATION_MAX_TOTAL_PIXELS)")


def test_a_multi_page_tiff_counts_each_pages_own_size():
    limits = frames.Limits(16, 1000, 12_000_000, 256 * 1024**2)
    with pytest.raises(BadInput, match=r"multi-page tiff has 13,010,000 pixels over its 3 pages"):
        frames.probe(tiff_pages((2000, 2000), (100, 100), (3000, 3000)), limits)


def test_a_page_under_the_minimum_side_is_named():
    with pytest.raises(BadInput) as info:
        frames.probe(tiff_pages((200, 200), (40, 200)), LIMITS)
    assert str(info.value) == "page 1 of the multi-page tiff is 40x200 px; each side must be at least 80 px"


def test_a_truncated_animation_fails_naming_the_frame():
    data = animated("gif", [BLUE, RED, GREY])
    seq = frames.probe(data[: len(data) - 30], LIMITS)
    with pytest.raises(BadInput, match="corrupt or truncated gif image: frame 2"):
        frames.scan(seq, LIMITS)


@pytest.mark.parametrize("head, answer", [
    (still("png"), False),
    (animated("png", [BLUE, RED]), True),
    (animated("png", [BLUE, RED])[:40], None),  # the first bytes end before IDAT: cannot tell
    (b"\x89PNG\r\n\x1a\n", None),
])
def test_png_is_animated_reads_chunk_headers_up_to_the_first_idat(head, answer):
    assert png_is_animated(head) is answer


def test_render_png_draws_one_frame():
    png = frames.render_png(animated("webp", [BLUE, RED]), 1, LIMITS)
    with Image.open(io.BytesIO(png)) as img:
        assert (img.format, img.getpixel((60, 50))[:3]) == ("PNG", RED)
    with pytest.raises(BadInput, match="the media has no frame 2"):
        frames.render_png(animated("webp", [BLUE, RED]), 2, LIMITS)
