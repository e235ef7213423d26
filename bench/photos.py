"""Distinct real photos for benchmarks, derived deterministically from samples/.

Each photo is a crop of a sample (its position and zoom drawn from a generator
seeded by the photo's index), flipped on every other round, scaled to the
requested size and saved as a JPEG (quality 90). The same arguments give the
same bytes, and no two photos of one call are the same bytes, so a benchmark
sees as many different images as it asks for and a cache or dedupe never
short-cuts one.
"""

from __future__ import annotations

import hashlib
import io
import random
from pathlib import Path

from PIL import Image, ImageOps

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def sample_images(directory: Path = SAMPLES) -> list[Image.Image]:
    """The sample photos (JPEG and PNG, sorted by name), as RGB."""
    paths = sorted(directory.glob("*.jpg")) + sorted(directory.glob("*.png"))
    if not paths:
        raise FileNotFoundError(f"no sample photos (*.jpg, *.png) in {directory}")
    out = []
    for path in paths:
        with Image.open(path) as img:
            out.append(ImageOps.exif_transpose(img).convert("RGB"))
    return out


def derive(sources: list[Image.Image], index: int, size: tuple[int, int]) -> Image.Image:
    """Photo ``index``: a crop of ``sources[index % len(sources)]`` with ``size``'s aspect ratio, scaled to it.

    The crop keeps 55-100% of the largest such box the source holds, at a position drawn from
    ``random.Random(index)``; odd rounds (``index // len(sources)``) are mirrored.
    """
    if index < 0:
        raise ValueError(f"index must be >= 0, got {index}")
    width, height = size
    if width < 1 or height < 1:
        raise ValueError(f"size must be positive, got {size}")
    src = sources[index % len(sources)]
    rng = random.Random(index)
    aspect = width / height
    box_w = min(src.width, src.height * aspect)
    zoom = rng.uniform(0.55, 1.0)
    crop_w, crop_h = box_w * zoom, box_w * zoom / aspect
    left = rng.uniform(0, src.width - crop_w)
    top = rng.uniform(0, src.height - crop_h)
    photo = src.resize(size, Image.BILINEAR, box=(left, top, left + crop_w, top + crop_h))
    if (index // len(sources)) % 2:
        photo = ImageOps.mirror(photo)
    return photo


def jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def write_photos(directory: Path, count: int, size: tuple[int, int],
                 sources: list[Image.Image] | None = None) -> list[Path]:
    """``count`` distinct JPEG photos of ``size`` in ``directory`` (created), named ``00000.jpg``...

    Raises ``ValueError`` if two of them come out as the same bytes (they would not be distinct items).
    """
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    sources = sources if sources is not None else sample_images()
    directory.mkdir(parents=True, exist_ok=True)
    paths, seen = [], {}
    for index in range(count):
        data = jpeg(derive(sources, index, size))
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            raise ValueError(f"photos {seen[digest]} and {index} are identical")
        seen[digest] = index
        path = directory / f"{index:05d}.jpg"
        path.write_bytes(data)
        paths.append(path)
    return paths
