"""bench/photos: deterministic, distinct photos of the asked size, derived from the samples."""

from __future__ import annotations

import hashlib

import pytest
from PIL import Image

from bench import photos


def _digests(paths) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


def test_same_arguments_give_the_same_distinct_photos(tmp_path):
    first = photos.write_photos(tmp_path / "a", 12, (160, 120))
    again = photos.write_photos(tmp_path / "b", 12, (160, 120))

    assert [p.name for p in first] == [f"{i:05d}.jpg" for i in range(12)]
    assert _digests(first) == _digests(again)
    assert len(set(_digests(first))) == 12
    for path in first:
        with Image.open(path) as img:
            assert (img.format, img.size, img.mode) == ("JPEG", (160, 120), "RGB")


def test_photos_cycle_through_the_sources_and_mirror_every_other_round():
    # Dark on the left, bright on the right: any crop of it keeps that order unless mirrored.
    ramp = Image.linear_gradient("L").transpose(Image.Transpose.ROTATE_90).resize((400, 200)).convert("RGB")
    grey = Image.new("RGB", (300, 300), (128, 128, 128))
    sources = [ramp, grey]

    assert photos.derive(sources, 1, (90, 90)).getpixel((45, 45)) == (128, 128, 128)  # index 1: the second source
    same = photos.derive(sources, 0, (200, 100))
    assert same.tobytes() == photos.derive(sources, 0, (200, 100)).tobytes()
    mirrored = photos.derive(sources, 2, (200, 100))  # round 1: flipped left to right
    assert mirrored.size == (200, 100)
    assert sum(mirrored.getpixel((0, 50))) > sum(mirrored.getpixel((199, 50)))  # bright on the left now...
    assert sum(same.getpixel((199, 50))) > sum(same.getpixel((0, 50)))  # ... unlike round 0's photo


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="count must be >= 1"):
        photos.write_photos(tmp_path, 0, (64, 48))
    with pytest.raises(ValueError, match="size must be positive"):
        photos.derive(photos.sample_images(), 0, (0, 48))
    with pytest.raises(ValueError, match="index must be >= 0"):
        photos.derive(photos.sample_images(), -1, (64, 48))
    with pytest.raises(FileNotFoundError, match="no sample photos"):
        photos.sample_images(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_identical_photos_are_refused(tmp_path):
    flat = Image.new("RGB", (100, 100), (10, 20, 30))  # every crop of a flat image is the same picture

    with pytest.raises(ValueError, match="photos 0 and 1 are identical"):
        photos.write_photos(tmp_path / "flat", 2, (50, 50), sources=[flat])
