"""URI parsing and confinement: refused at submit, nothing stored."""

from __future__ import annotations

import os

import pytest

from moderation import media
from moderation.errors import BadInput, RefusedSubmission


@pytest.fixture
def photo(media_root):
    path = media_root / "cat.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + b"0" * 100)
    return path


def test_relative_path_resolves_under_root(media_root, photo):
    ref = media.parse("cat.jpg", media_root)
    assert ref.scheme == "file" and ref.path == photo.resolve()
    assert ref.uri == photo.resolve().as_uri()


def test_file_uri_and_absolute_path_inside_root(media_root, photo):
    assert media.parse(photo.as_uri(), media_root).path == photo.resolve()
    assert media.parse(str(photo), media_root).path == photo.resolve()


@pytest.mark.parametrize(
    "uri, message",
    [
        ("../etc/passwd", "contains '..'"),
        ("sub/../../x.jpg", "contains '..'"),
        ("/etc/passwd", "outside the media root"),
        ("file:///etc/hosts", "outside the media root"),
        ("file://otherhost/x.jpg", "names a host"),
        ("missing.jpg", "no such file under the media root"),
        ("ftp://example.com/x.jpg", "unsupported URI scheme 'ftp'"),
        ("https://example.com/x.jpg", "unsupported URI scheme 'https'"),
        ("", "media URI is empty"),
        ("s3://Bad_Bucket/key.jpg", "invalid S3 bucket name"),
        ("s3://bucket-ok/", "needs an object key"),
        ("s3://bucket-ok/k.jpg?acl=1", "only query accepted is versionId"),
    ],
)
def test_refused(media_root, photo, uri, message):
    with pytest.raises(RefusedSubmission, match=message.replace("(", r"\(").replace(")", r"\)")):
        media.parse(uri, media_root)


def test_symlink_out_of_root_is_refused(media_root, tmp_path):
    outside = tmp_path / "secret.jpg"
    outside.write_bytes(b"\xff\xd8\xff")
    os.symlink(outside, media_root / "link.jpg")
    with pytest.raises(RefusedSubmission, match="outside the media root"):
        media.parse("link.jpg", media_root)


def test_symlink_inside_root_is_fine(media_root, photo):
    os.symlink(photo, media_root / "alias.jpg")
    assert media.parse("alias.jpg", media_root).path == photo.resolve()


def test_s3_uri_with_version_and_allow_list(media_root):
    ref = media.parse("s3://ugc-bucket/a/b%20c.jpg?versionId=v1", media_root, frozenset({"ugc-bucket"}))
    assert (ref.bucket, ref.key, ref.version) == ("ugc-bucket", "a/b c.jpg", "v1")
    with pytest.raises(RefusedSubmission, match="not in MODQ_S3_BUCKETS"):
        media.parse("s3://other-bucket/x.jpg", media_root, frozenset({"ugc-bucket"}))


@pytest.mark.parametrize(
    "head, fmt",
    [(b"\xff\xd8\xff\xe0", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF89a", "gif"),
     (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"), (b"BM\x00\x00", "bmp"), (b"II*\x00", "tiff"),
     (b"\x00\x00\x00\x18ftypmp42", "mp4"), (b"\x00\x00\x00\x14ftypqt  ", "mov"),
     (b"hello world", None), (b"", None)],
)
def test_sniff(head, fmt):
    assert media.sniff(head) == fmt


def test_media_kind_by_content_not_extension(media_root):
    (media_root / "clip.jpg").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 32)
    assert media.media_kind(media.parse("clip.jpg", media_root)) == "video"


def test_read_local_limits(media_root):
    (media_root / "empty.jpg").write_bytes(b"")
    (media_root / "big.jpg").write_bytes(b"\xff\xd8\xff" + b"0" * 2000)
    with pytest.raises(BadInput, match="empty"):
        media.read_local(media.parse("empty.jpg", media_root), 1000)
    with pytest.raises(BadInput, match="over the limit of 1,000"):
        media.read_local(media.parse("big.jpg", media_root), 1000)


@pytest.mark.parametrize(
    "head, fmt, kind",
    [(b"\x00\x00\x00\x1cftypheic", "heif", None),  # an iPhone photo is not a video despite its ISO boxes
     (b"\x00\x00\x00\x1cftypmif1", "heif", None), (b"\x00\x00\x00\x1cftypavif", "heif", None),
     (b"\x00\x00\x00\x08wide\x00\x00", "mov", "video"),  # QuickTime from before the ftyp box
     (b"\x00\x01\x02\x03moov", "mov", "video"), (b"\x00\x00\x00\x20ftypisom", "mp4", "video")],
)
def test_sniff_iso_media_brands(head, fmt, kind):
    assert media.sniff(head) == fmt and media.kind_of(fmt) == kind


def test_video_named_like_a_photo_and_photo_named_like_a_video(media_root):
    (media_root / "clip.mov").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 32)
    (media_root / "upload").write_bytes(b"\x00\x00\x00\x14ftypqt  " + b"\x00" * 32)
    assert media.media_kind(media.parse("clip.mov", media_root)) == "image"
    assert media.media_kind(media.parse("upload", media_root)) == "video"
    assert media.parse("s3://ugc-bucket/in/clip.MP4", media_root).extension_kind == "video"  # S3: by extension


def test_refusals_do_not_echo_a_presigned_urls_credentials(tmp_path):
    """A signature in a presigned URL is a credential: refusal messages end up in logs and API answers."""
    url = ("https://ugc.s3.amazonaws.com/u/1.jpg?X-Amz-Credential=AKIAEXAMPLE0000000001%2F20261122"
           "&X-Amz-Security-Token=IQoJtoken&X-Amz-Signature=" + "ab" * 32)
    with pytest.raises(RefusedSubmission) as info:
        media.parse(url, tmp_path)
    message = str(info.value)
    assert message.startswith("unsupported URI scheme 'https'") and "X-Amz-Signature=[redacted]" in message
    assert "abab" not in message and "AKIAEXAMPLE" not in message and "IQoJtoken" not in message
    with pytest.raises(RefusedSubmission, match=r"the only query accepted is versionId") as info:
        media.parse("s3://ugc/u/1.jpg?X-Amz-Signature=" + "ab" * 32, tmp_path)
    assert "abab" not in str(info.value)


@pytest.mark.parametrize(
    "uri, message",
    [
        ("file:///a%00b.jpg", "control characters"),
        ("s3://bucket-ok/k%00.jpg", "control characters"),
        ("a\x07b.jpg", "control characters"),
        ("x" * 300 + ".jpg", "is not usable"),
        ("s3://bucket-ok/" + "k" * 5000, "the limit is 4,096"),
    ],
)
def test_hostile_uris_are_refused_not_crashing(media_root, uri, message):
    with pytest.raises(RefusedSubmission, match=message):
        media.parse(uri, media_root)
