"""URI parsing and confinement: refused at submit, nothing stored."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from config.validators import bucket_name_problem, valid_bucket_name
from moderation.infra.media import local, uris as media
from moderation.domain.errors import BadInput, RefusedSubmission

REPO = Path(__file__).resolve().parents[3]


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


def test_read_file_limits(media_root):
    (media_root / "empty.jpg").write_bytes(b"")
    (media_root / "big.jpg").write_bytes(b"\xff\xd8\xff" + b"0" * 2000)
    with pytest.raises(BadInput, match="empty"):
        local.read_file(media.parse("empty.jpg", media_root).path, 1000)
    with pytest.raises(BadInput, match="over the limit of 1,000"):
        local.read_file(media.parse("big.jpg", media_root).path, 1000)


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


# Issue 12.8: what was submitted is what is moderated. URI parsers drop a fragment, a query and (some tools)
# doubled slashes; modq refuses them instead, saying how to write the character when it is part of the name.
@pytest.mark.parametrize("uri, message", [
    ("s3://ugc/key.jpg#frag", "S3 URI 's3://ugc/key.jpg#frag' contains '#': an S3 URI takes no fragment; write a "
                              "'#' that is part of the key as %23"),
    ("s3://ugc/key.jpg#", "S3 URI 's3://ugc/key.jpg#' contains '#': an S3 URI takes no fragment; write a '#' that "
                          "is part of the key as %23"),
    ("s3://ugc/key.jpg?versionId=v1#x", "S3 URI 's3://ugc/key.jpg?versionId=v1#x' contains '#': an S3 URI takes no "
                                        "fragment; write a '#' that is part of the key as %23"),
    ("s3://ugc/key.jpg?", "S3 URI 's3://ugc/key.jpg?': the only query accepted is versionId=..."),
    ("s3://ugc/key.jpg?versionId=", "S3 URI 's3://ugc/key.jpg?versionId=': the only query accepted is versionId=..."),
    ("s3://ugc//key.jpg", "S3 URI 's3://ugc//key.jpg' has an empty key segment ('//' or a '/' at either end of the "
                          "key): write a '/' that is part of the key as %2F"),
    ("s3://ugc/a//key.jpg", "S3 URI 's3://ugc/a//key.jpg' has an empty key segment ('//' or a '/' at either end of "
                            "the key): write a '/' that is part of the key as %2F"),
    ("s3://ugc/folder/", "S3 URI 's3://ugc/folder/' has an empty key segment ('//' or a '/' at either end of the "
                         "key): write a '/' that is part of the key as %2F"),
    ("file:///srv/a.jpg?x=../../b", "file URI 'file:///srv/a.jpg?x=../../b' contains '?': a file URI takes no "
                                    "query; write a '?' that is part of the file name as %3F"),
    ("file:///srv/a.jpg?", "file URI 'file:///srv/a.jpg?' contains '?': a file URI takes no query; write a '?' "
                           "that is part of the file name as %3F"),
    ("file:///srv/a.jpg#x", "file URI 'file:///srv/a.jpg#x' contains '#': a file URI takes no fragment; write a "
                            "'#' that is part of the file name as %23"),
    ("cat.jpg?x=1", "path 'cat.jpg?x=1' contains '?': it would read as a URI query; for a file name with '?' in "
                    "it, give its file:// URI with %3F"),
    ("cat.jpg#1", "path 'cat.jpg#1' contains '#': it would read as a URI fragment; for a file name with '#' in it, "
                  "give its file:// URI with %23"),
])
def test_nothing_in_a_uri_is_silently_dropped(media_root, photo, uri, message):
    with pytest.raises(RefusedSubmission) as info:
        media.parse(uri, media_root, frozenset({"ugc"}))
    assert str(info.value) == message


def test_characters_that_are_part_of_a_name_are_written_percent_encoded(media_root):
    odd = media_root / "a?b#c.jpg"
    odd.write_bytes(b"\xff\xd8\xff")
    ref = media.parse(odd.as_uri(), media_root)  # as_uri writes them as %3F and %23
    assert ref.path == odd.resolve() and media.parse(ref.uri, media_root).path == odd.resolve()
    ref = media.parse("s3://ugc/%2Froot/a%2F%2Fb%23c%3Fd.jpg?versionId=v1", media_root)
    assert (ref.key, ref.version) == ("/root/a//b#c?d.jpg", "v1")
    assert media.parse(ref.uri, media_root).key == ref.key  # the stored form names the same key


@pytest.mark.parametrize("name", [
    "ugc", "ugc-uploads", "ugc.uploads.example.com", "a" * 63, "1.2.3", "10.0.0.1.example", "0ugc9",
    "ugc-base--usw2-az1--x-s3",  # directory buckets are real buckets
])
def test_bucket_names_aws_accepts(name):
    assert bucket_name_problem(name) is None and valid_bucket_name(name)


@pytest.mark.parametrize("name, problem", [
    ("", "bucket names are 3-63 characters long"),
    ("ab", "bucket names are 3-63 characters long"),
    ("a" * 64, "bucket names are 3-63 characters long"),
    ("UGC", "bucket names contain only lowercase letters, digits, dots and hyphens"),
    ("ugc_uploads", "bucket names contain only lowercase letters, digits, dots and hyphens"),
    ("user@ugc", "bucket names contain only lowercase letters, digits, dots and hyphens"),
    ("ugc:443", "bucket names contain only lowercase letters, digits, dots and hyphens"),
    ("-ugc", "bucket names start and end with a letter or digit"),
    ("ugc.", "bucket names start and end with a letter or digit"),
    ("ugc..uploads", "bucket names do not contain '..'"),
    ("127.0.0.1", "bucket names are not formatted as an IP address"),
    ("169.254.169.254", "bucket names are not formatted as an IP address"),
    ("999.10.0.01", "bucket names are not formatted as an IP address"),  # the form, not only valid addresses
    ("xn--ugc", "the prefix 'xn--' is reserved by S3"),
    ("sthree-ugc", "the prefix 'sthree-' is reserved by S3"),
    ("amzn-s3-demo-ugc", "the prefix 'amzn-s3-demo-' is reserved by S3"),
    ("ugc-ap-s3alias", "the suffix '-s3alias' is reserved by S3"),
    ("ugc-olap--ol-s3", "the suffix '--ol-s3' is reserved by S3"),
    ("mfzwi23gnjvgw.mrap", "the suffix '.mrap' is reserved by S3"),
    ("ugc--table-s3", "the suffix '--table-s3' is reserved by S3"),
])
def test_bucket_names_aws_refuses(media_root, name, problem):
    assert bucket_name_problem(name) == problem and not valid_bucket_name(name)
    with pytest.raises(RefusedSubmission) as info:
        media.parse(f"s3://{name}/x.jpg", media_root)
    assert str(info.value) == f"invalid S3 bucket name {name!r} in 's3://{name}/x.jpg': {problem}"


# Issue 12.9: what the OS refuses about a path is bad input with the reason, never a RuntimeError or OSError.
LOOP = "it is a symlink loop (too many levels of symbolic links)"


@pytest.mark.parametrize("name, reason", [
    ("self.jpg", LOOP),  # self.jpg -> self.jpg
    ("ping.jpg", LOOP),  # ping.jpg -> pong.jpg -> ping.jpg
    ("loopdir/x.jpg", LOOP),  # a loop in a directory on the way
    ("cat.jpg/x.jpg", "a part of it that should be a directory is a file"),
    ("sub", "it is a directory, not a file"),
    ("pipe.jpg", "it is not a regular file"),  # opening a FIFO would block the reader
    ("n" * 256 + ".jpg", "File name too long"),
])
def test_paths_the_os_will_not_read_are_refused_with_the_reason(media_root, photo, name, reason):
    os.symlink("self.jpg", media_root / "self.jpg")
    os.symlink("pong.jpg", media_root / "ping.jpg")
    os.symlink("ping.jpg", media_root / "pong.jpg")
    os.symlink("loopdir", media_root / "loopdir")
    (media_root / "sub").mkdir()
    os.mkfifo(media_root / "pipe.jpg")
    with pytest.raises(local.UnusablePath) as info:
        media.parse(name, media_root)
    assert str(info.value) == f"path {name[:200]!r} is not usable: {reason}" and info.value.reason == reason
    with pytest.raises(local.UnusablePath, match="is not usable"):  # the same as a file URI
        media.parse((media_root / name).as_uri(), media_root)


_PARSE_AS_ANOTHER_USER = """
import json, os, pwd, sys
from pathlib import Path
from moderation.infra.media import uris as media
from moderation.domain.errors import RefusedSubmission
if os.geteuid() == 0:  # root reads everything: drop to nobody (after start-up, the interpreter may be root's)
    nobody = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)
outcomes = {}
for name in sys.argv[2:]:
    try:
        outcomes[name] = media.parse(name, Path(sys.argv[1])).uri
    except RefusedSubmission as exc:
        outcomes[name] = str(exc)
print(json.dumps(outcomes))
"""


def test_files_modq_may_not_read_are_refused_with_the_reason():
    """Root reads everything, so the parse runs in a child process that drops to ``nobody`` if it is root."""
    base = Path(tempfile.mkdtemp(prefix="modq-perm-"))
    try:
        base.chmod(0o755)
        root = base / "media"
        root.mkdir(mode=0o755)
        (root / "ok.jpg").write_bytes(b"\xff\xd8\xff")
        (root / "ok.jpg").chmod(0o644)
        (root / "secret.jpg").write_bytes(b"\xff\xd8\xff")
        (root / "secret.jpg").chmod(0o000)
        (root / "private").mkdir(mode=0o700)
        (root / "private" / "x.jpg").write_bytes(b"\xff\xd8\xff")
        (root / "private").chmod(0o000)
        done = subprocess.run([sys.executable, "-c", _PARSE_AS_ANOTHER_USER, str(root), "ok.jpg", "secret.jpg",
                               "private/x.jpg"], cwd=REPO, capture_output=True, text=True, check=True)
        assert json.loads(done.stdout) == {
            "ok.jpg": (root / "ok.jpg").as_uri(),  # the child can read the media root: the refusals are real
            "secret.jpg": "path 'secret.jpg' is not usable: permission denied: modq cannot read it",
            "private/x.jpg": "path 'private/x.jpg' is not usable: permission denied: modq cannot read it",
        }
    finally:
        (base / "media" / "private").chmod(0o700)
        shutil.rmtree(base)


def test_a_file_swapped_after_parse_fails_the_read_with_the_reason(media_root, photo):
    ref = media.parse("cat.jpg", media_root)
    photo.unlink()
    photo.mkdir()  # swapped between the parse (submit) and the read (worker)
    with pytest.raises(BadInput) as info:
        local.read_file(ref.path, 1000)
    assert str(info.value) == f"file {photo} cannot be read: Is a directory"
    photo.rmdir()
    with pytest.raises(BadInput, match="file no longer exists"):
        local.read_file(ref.path, 1000)
