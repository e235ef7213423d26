"""The console shows the frame of an animated image that a rule fired on, not its first frame."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from moderation.items import services as service
from tests.animated_media import BLUE, GREEN, RED, animated, still


@pytest.fixture
def animation(rt, media_root, fake_provider):
    """A GIF whose clean first frame hides an explicit second one, moderated to ``rejected``."""
    fake_provider.by_color = True

    def make(colors=(BLUE, RED), name: str = "anim.gif", fmt: str = "gif") -> str:
        (media_root / name).write_bytes(animated(fmt, list(colors), [50, 10_000, 100][: len(colors)]))
        item_id = service.submit(name, rt=rt).item_id
        service.process_image(item_id, rt=rt)
        return item_id

    return make


def center(png: bytes) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(png)) as img:
        return img.convert("RGB").getpixel((img.width // 2, img.height // 2))


def test_the_item_page_shows_the_frame_that_fired(client, sign_in, animation):
    item_id = animation()
    sign_in()
    page = client.get(f"/items/{item_id}").text
    assert f'id="fired-frame" src="/media/{item_id}?frame=1"' in page
    assert "Shown: <strong>frame 1 at 0:00.050</strong>" in page
    frame = client.get(f"/media/{item_id}?frame=1")
    assert (frame.status_code, frame.headers["content-type"]) == (200, "image/png")
    assert frame.headers["cache-control"] == "private, no-store" and "sandbox" in frame.headers["content-security-policy"]
    assert center(frame.content) == RED
    assert center(client.get(f"/media/{item_id}?frame=0").content) == BLUE


def test_a_page_of_a_tiff_is_named_as_a_page(client, sign_in, animation):
    item_id = animation((BLUE, GREEN, RED), name="doc.tiff", fmt="tiff")
    sign_in()
    assert "Shown: <strong>page 2</strong>" in client.get(f"/items/{item_id}").text
    assert center(client.get(f"/media/{item_id}?frame=2").content) == RED


def test_the_api_names_the_fired_frame(client, auth, animation):
    item_id = animation()
    body = client.get(f"/v1/items/{item_id}", headers=auth["reviewer"]).json()
    assert body["fired_frame"]["index"] == 1 and body["fired_frame"]["offset_ms"] == 50
    assert body["reasons"][0].endswith("in frame 1 at 0:00.050")


def test_a_still_image_page_is_unchanged(client, sign_in, flagged):
    item_id = flagged()
    sign_in()
    page = client.get(f"/items/{item_id}").text
    assert f'<img src="/media/{item_id}" alt="The item\'s image">' in page and "fired-frame" not in page


@pytest.mark.parametrize("frame", [2, 99])
def test_a_frame_the_media_does_not_have_is_404(client, sign_in, animation, frame):
    item_id = animation()
    sign_in()
    response = client.get(f"/media/{item_id}?frame={frame}")
    assert response.status_code == 404
    assert f"frame {frame} of this item's media is not available: the media has no frame {frame}" in response.text


def test_a_frame_of_a_still_is_404(client, sign_in, rt, media_root):
    (media_root / "still.png").write_bytes(still("png", RED))
    item_id = service.submit("still.png", rt=rt).item_id
    sign_in()
    assert client.get(f"/media/{item_id}?frame=0").status_code == 404


def test_frames_need_a_signed_in_reviewer(client, animation):
    item_id = animation()
    response = client.get(f"/media/{item_id}?frame=1", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")
