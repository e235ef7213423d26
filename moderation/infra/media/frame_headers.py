"""What a multi-frame file's header says, read by hand where a library reads too much.

``png_is_animated`` answers from the chunk headers before the first ``IDAT``,
so it works on the first kilobytes of an S3 object (a ranged GET) as well as
on a whole file; ``gif_frame_count`` stops counting at a limit.
"""

from __future__ import annotations


def png_is_animated(head: bytes) -> bool | None:
    """True: an ``acTL`` chunk comes before the first ``IDAT`` (an APNG); False: a still PNG;
    None: ``head`` ends first (a partial read cannot tell). Reads chunk headers only."""
    pos = 8
    while pos + 8 <= len(head):
        kind = head[pos + 4:pos + 8]
        if kind == b"acTL":
            return True
        if kind in (b"IDAT", b"IEND"):
            return False
        pos += 12 + int.from_bytes(head[pos:pos + 4], "big")
    return None


def gif_frame_count(data: bytes, stop: int) -> int:
    """Image descriptors in a GIF, counting no further than ``stop``.

    Hand-written because Pillow's ``n_frames`` walks the whole file before answering (about 20 µs a
    frame: seconds for the hundreds of thousands of empty frames a 15 MB file can hold) and a limit
    must stop the count as soon as it is passed. Block layout: GIF89a specification, sections 18-27.
    """
    if len(data) < 13:
        return 0  # truncated: the still path's decode says so
    pos, count = _after_color_table(data, 13, data[10]), 0
    while pos < len(data) and count < stop:
        kind = data[pos]
        if kind == 0x21:  # extension: label, then data sub-blocks
            pos = _skip_sub_blocks(data, pos + 2)
        elif kind == 0x2C and pos + 10 <= len(data):  # descriptor (10 bytes), colour table, LZW size, sub-blocks
            count += 1
            pos = _skip_sub_blocks(data, _after_color_table(data, pos + 10, data[pos + 9]) + 1)
        elif kind == 0x3B:  # the trailer
            break
        else:  # a stray byte: Pillow skips it and reads on, so frames after it count too
            pos += 1
    return count


def _after_color_table(data: bytes, pos: int, flags: int) -> int:
    return pos + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    while pos < len(data):
        size = data[pos]
        pos += 1 + size
        if size == 0:
            break
    return pos
