"""Multi-frame test images made in the test: animated GIF, APNG, animated WebP, multi-page TIFF.

Frames are flat colours (see ``tests.fakes.providers.COLOR_LABELS``: red is
"explicit", green "non-explicit nudity", anything else clean), so a test can
say "frame 1 is the explicit one" and check which frame a reason names.
``many_frame_gif`` writes the blocks by hand: Pillow needs seconds to save
thousands of frames, and these files exist to be refused unread.
"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

RED, GREEN, BLUE, GREY, YELLOW = (220, 20, 20), (20, 200, 40), (20, 40, 220), (128, 128, 128), (230, 220, 30)
PILLOW_FORMAT = {"gif": "GIF", "png": "PNG", "webp": "WEBP", "tiff": "TIFF"}


def animated(fmt: str, colors: list[tuple[int, int, int]], durations: list[int] | int = 100,
             size: tuple[int, int] = (120, 100), loop: int | None = 0) -> bytes:
    """One flat-colour frame per entry of ``colors``; ``loop`` None: no loop count (a GIF then plays once)."""
    frames = [Image.new("RGB", size, color) for color in colors]
    options = {"save_all": True, "append_images": frames[1:]}
    if fmt != "tiff":
        options["duration"] = durations
        if loop is not None:
            options["loop"] = loop
    if fmt == "webp":
        options["lossless"] = True  # exact colours: frames that look the same are the same
    out = io.BytesIO()
    frames[0].save(out, PILLOW_FORMAT[fmt], **options)
    return out.getvalue()


def still(fmt: str, color=GREY, size: tuple[int, int] = (120, 100)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, PILLOW_FORMAT.get(fmt, fmt.upper()))
    return out.getvalue()


def many_frame_gif(frames: int, size: tuple[int, int] = (100, 100)) -> bytes:
    """A GIF89a of ``frames`` frames, each a 1x1 pixel drawn at the corner of a ``size`` canvas (10 ms each)."""
    width, height = size
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0)  # global colour table of 2 entries
    palette = bytes([0, 0, 0, 255, 255, 255])
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    control = b"\x21\xf9\x04\x00\x01\x00\x00\x00"  # graphic control: 1 centisecond
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"  # one pixel, LZW-coded
    return b"GIF89a" + screen + palette + loop + (control + image) * frames + b"\x3b"



def apng_declaring(frame_count: int) -> bytes:
    """A two-frame APNG whose animation control chunk (acTL) claims ``frame_count`` frames."""
    data = animated("png", [BLUE, RED])
    at = data.index(b"acTL") - 4
    body = struct.pack(">II", frame_count, 0)
    chunk = struct.pack(">I", len(body)) + b"acTL" + body + struct.pack(">I", zlib.crc32(b"acTL" + body))
    return data[:at] + chunk + data[at + len(chunk):]


def tiff_pages(*sizes: tuple[int, int], color=GREY) -> bytes:
    """A multi-page TIFF (deflate-compressed: flat pages take a few bytes), one flat page per size."""
    pages = [Image.new("RGB", size, color) for size in sizes]
    out = io.BytesIO()
    pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_deflate")
    return out.getvalue()
