"""Crafted media that are small on disk and huge once decoded, written without decoding them.

Each file is a few hundred KB (flat pixels compress ~1000:1) but asks the decoder for hundreds
of MiB. The writers stream: making a file never holds its pixels, so the test process that
makes one stays small and the child process that decodes it measures only the decode.
The formats are written by hand (a few dozen lines each) because Pillow and FFmpeg can only
write such files from decoded pixels, which is the very allocation the tests must avoid.
"""

from __future__ import annotations

import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av

_CHUNK_BYTES = 4 * 1024 * 1024  # rows compressed at a time


def png(width: int, height: int, bit_depth: int = 8, color_type: int = 2) -> bytes:
    """A PNG of zero pixels (black); ``color_type`` 0 grey, 2 RGB, 6 RGBA."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    row = b"\0" * (1 + width * channels * bit_depth // 8)  # filter byte "none" + the samples
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    idat = _zlib_repeated(row, height)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _zlib_repeated(row: bytes, count: int) -> bytes:
    """A zlib stream of ``row`` repeated ``count`` times, compressing only one chunk of rows.

    After a full flush deflate refers to nothing before it, so the blocks of every identical
    chunk are the same bytes: compressing 432 MB of zeros takes ms instead of seconds.
    """
    per_chunk = max(1, _CHUNK_BYTES // len(row))
    chunks, rest = divmod(count, per_chunk)
    chunk = row * per_chunk
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate: the zlib header and checksum are written here
    blocks = raw.compress(chunk) + raw.flush(zlib.Z_FULL_FLUSH)
    tail = raw.compress(row * rest) + raw.flush(zlib.Z_FINISH)
    checksum = 1
    for _ in range(chunks):
        checksum = zlib.adler32(chunk, checksum)
    checksum = zlib.adler32(row * rest, checksum)
    return b"\x78\xda" + blocks * chunks + tail + struct.pack(">I", checksum)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def tiff(width: int, height: int, bits: int = 16, samples: int = 1, rows_per_strip: int = 64) -> bytes:
    """A little-endian TIFF of zero pixels, Adobe-deflate strips; ``samples`` 1 grey, 3 RGB."""
    strip = zlib.compress(b"\0" * (width * samples * bits // 8 * rows_per_strip), 9)
    last_rows = height - (height - 1) // rows_per_strip * rows_per_strip
    last = zlib.compress(b"\0" * (width * samples * bits // 8 * last_rows), 9)
    count = -(-height // rows_per_strip)
    sizes = [len(strip)] * (count - 1) + [len(last)]
    tags = 10
    ifd_at = 8
    arrays_at = ifd_at + 2 + tags * 12 + 4
    bits_at, offsets_at = arrays_at, arrays_at + 2 * samples
    counts_at = offsets_at + 4 * count
    data_at = counts_at + 4 * count
    offsets = [data_at + i * len(strip) for i in range(count)]  # every strip but the last is ``strip``
    entries = [
        (256, 4, 1, width), (257, 4, 1, height),
        (258, 3, samples, bits if samples == 1 else bits_at),
        (259, 3, 1, 8),  # Adobe deflate
        (262, 3, 1, 1 if samples == 1 else 2),  # BlackIsZero / RGB
        (273, 4, count, offsets_at if count > 1 else offsets[0]),
        (277, 3, 1, samples), (278, 4, 1, rows_per_strip),
        (279, 4, count, counts_at if count > 1 else sizes[0]),
        (284, 3, 1, 1),  # chunky
    ]
    out = bytearray(b"II*\0" + struct.pack("<I", ifd_at) + struct.pack("<H", tags))
    for tag, kind, n, value in entries:
        inline_short = kind == 3 and n == 1  # else a LONG, or the offset of the values
        out += struct.pack("<HHI", tag, kind, n) + struct.pack("<HH" if inline_short else "<I", *(
            (value, 0) if inline_short else (value,)))
    out += struct.pack("<I", 0)
    out += struct.pack(f"<{samples}H", *[bits] * samples)
    out += struct.pack(f"<{count}I", *offsets) + struct.pack(f"<{count}I", *sizes)
    assert len(out) == data_at
    return bytes(out) + strip * (count - 1) + last


def cmyk_jpeg(width: int, height: int) -> bytes:
    """A baseline 4-component (CMYK, Adobe) JPEG whose every block is flat: 3 bytes of scan per 8x8 MCU.

    Every block is "DC difference 0, end of block" in the standard luminance tables: 2 + 4 bits, so
    an MCU of four components is 24 bits, exactly the bytes 28 a2 8a (no 0xff, no stuffing).
    """
    mcus = -(-width // 8) * -(-height // 8)
    quant = _segment(0xDB, b"\x00" + bytes([1] * 64))
    frame = _segment(0xC0, struct.pack(">BHHB", 8, height, width, 4) +
                     b"".join(bytes([c, 0x11, 0]) for c in range(1, 5)))
    huffman = _segment(0xC4, b"\x00" + _DC_COUNTS + _DC_VALUES + b"\x10" + _AC_COUNTS + _AC_VALUES)
    scan = _segment(0xDA, b"\x04" + b"".join(bytes([c, 0x00]) for c in range(1, 5)) + b"\x00\x3f\x00")
    adobe = _segment(0xEE, b"Adobe\x00\x64\x00\x00\x00\x00\x00")  # transform 0: plain CMYK
    return b"\xff\xd8" + adobe + quant + frame + huffman + scan + b"\x28\xa2\x8a" * mcus + b"\xff\xd9"


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


# JPEG Annex K.3 standard luminance tables: DC code "00" is category 0; AC code "1010" is EOB (0x00).
_DC_COUNTS = bytes([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
_DC_VALUES = bytes(range(12))
_AC_COUNTS = bytes([0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D])
_AC_VALUES = bytes.fromhex(
    "01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435"
    "363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798"
    "999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4"
    "f5f6f7f8f9fa")


def png_frames_mov(path: Path, side: int, frames: int = 2, first_side: int | None = None) -> Path:
    """A QuickTime file of ``frames`` PNG frames of ``side`` x ``side`` px, one a second.

    ``first_side``: the first frame (and the size the container declares) is this size instead,
    as a file whose later frames grow would be. The PNG packets are muxed as they are (no
    encoder runs), so the frames are never decoded here.
    """
    declared = first_side or side
    with av.open(str(path), "w", format="mov") as out:
        stream = out.add_mux_stream("png", width=declared, height=declared, time_base=Fraction(1, 1))
        out.start_encoding()  # the muxer picks the stream's time base here
        ticks = int(1 / stream.time_base)
        later = png(side, side)
        for i in range(frames):
            packet = av.Packet(png(declared, declared) if i == 0 else later)
            packet.stream = stream
            packet.pts = packet.dts = i * ticks
            packet.duration = ticks
            packet.is_keyframe = True
            out.mux(packet)
    return path
