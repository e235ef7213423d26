"""Bad input matrix: what a user types, and the exact error they see.

Submit (the `modq submit` command: exit 2, ``error: <message>`` on stderr;
the same messages come from ``moderation.items.services.submit`` as
``RefusedSubmission``) and configuration (``invalid configuration: ...``
from every entry point; the CLI prints it after ``error:`` and exits 2).
Nothing is stored for a refused submission. API rows belong with the API.
Media the worker refuses (``MEDIA``): the item ends ``failed`` with the exact
reason and nothing else is stored.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, inspect, select, table
from typer.testing import CliRunner

from config.settings import SettingsError, get_settings, load_settings
from moderation.items import services as service
from moderation.cli.main import app
from moderation.bootstrap import set_runtime
from moderation.items import models as m
from moderation.infra.db import transaction
from tests import crafted_media
from tests.animated_media import apng_declaring, many_frame_gif, tiff_pages
from tests.conftest import jpeg_bytes

runner = CliRunner()
PRESIGNED = "https://ugc.s3.amazonaws.com/u/1.jpg?X-Amz-Credential=AKIAEXAMPLE0000000001&X-Amz-Signature=" + "ab" * 32
ROOT = "<root>"  # replaced by the test's media root

SUBMIT = [
    # (arguments after `modq submit`, exact message)
    ([""], "media URI is empty"),
    (["../outside.jpg"], "path '../outside.jpg' contains '..'; give a path inside the media root"),
    (["a/../../outside.jpg"], "path 'a/../../outside.jpg' contains '..'; give a path inside the media root"),
    (["/etc/passwd"], f"path '/etc/passwd' is outside the media root '{ROOT}' (MODQ_MEDIA_ROOT)"),
    (["file:///etc/passwd"], f"path '/etc/passwd' is outside the media root '{ROOT}' (MODQ_MEDIA_ROOT)"),
    (["escape.jpg"], f"path 'escape.jpg' is outside the media root '{ROOT}' (MODQ_MEDIA_ROOT)"),  # symlink out
    (["missing.jpg"], f"no such file under the media root '{ROOT}' (MODQ_MEDIA_ROOT): 'missing.jpg'"),
    (["file://evil.example/etc/passwd"], "file URI names a host ('evil.example'); only local files are accepted"),
    (["gopher://x/y.jpg"], "unsupported URI scheme 'gopher' in 'gopher://x/y.jpg': use s3://bucket/key, "
                           "file:///path or a path under the media root"),
    (["https://example.com/a.jpg"], "unsupported URI scheme 'https' in 'https://example.com/a.jpg': use "
                                    "s3://bucket/key, file:///path or a path under the media root"),
    ([PRESIGNED], "unsupported URI scheme 'https' in 'https://ugc.s3.amazonaws.com/u/1.jpg?X-Amz-Credential="
                  "[redacted]&X-Amz-Signature=[redacted]': use s3://bucket/key, file:///path or a path under the "
                  "media root"),
    (["s3://Bad_Bucket/k.jpg"], "invalid S3 bucket name 'Bad_Bucket' in 's3://Bad_Bucket/k.jpg': bucket names "
                                "contain only lowercase letters, digits, dots and hyphens"),
    (["s3://ugc-uploads/"], "S3 URI 's3://ugc-uploads/' needs an object key of 1-1024 characters"),
    (["s3://other-bucket/k.jpg"], "S3 bucket 'other-bucket' is not in MODQ_S3_BUCKETS"),
    (["s3://ugc-uploads/k.jpg?acl"], "S3 URI 's3://ugc-uploads/k.jpg?acl': the only query accepted is versionId=..."),
    # Issue 12.8: nothing after "#" or "?" and no "//" is dropped; what was named is what would be moderated.
    (["s3://ugc-uploads/key.jpg#frag"], "S3 URI 's3://ugc-uploads/key.jpg#frag' contains '#': an S3 URI takes no "
                                        "fragment; write a '#' that is part of the key as %23"),
    (["s3://ugc-uploads/key.jpg?"], "S3 URI 's3://ugc-uploads/key.jpg?': the only query accepted is versionId=..."),
    (["s3://ugc-uploads//key.jpg"], "S3 URI 's3://ugc-uploads//key.jpg' has an empty key segment ('//' or a '/' "
                                    "at either end of the key): write a '/' that is part of the key as %2F"),
    (["s3://ugc-uploads/a//key.jpg"], "S3 URI 's3://ugc-uploads/a//key.jpg' has an empty key segment ('//' or a "
                                      "'/' at either end of the key): write a '/' that is part of the key as %2F"),
    (["s3://ugc-uploads/folder/"], "S3 URI 's3://ugc-uploads/folder/' has an empty key segment ('//' or a '/' at "
                                   "either end of the key): write a '/' that is part of the key as %2F"),
    ([f"file://{ROOT}/a.jpg?x=../../b"], f"file URI 'file://{ROOT}/a.jpg?x=../../b' contains '?': a file URI "
                                         f"takes no query; write a '?' that is part of the file name as %3F"),
    ([f"file://{ROOT}/a.jpg#x"], f"file URI 'file://{ROOT}/a.jpg#x' contains '#': a file URI takes no fragment; "
                                 f"write a '#' that is part of the file name as %23"),
    (["a.jpg?x=1"], "path 'a.jpg?x=1' contains '?': it would read as a URI query; for a file name with '?' in it, "
                    "give its file:// URI with %3F"),
    (["a.jpg#x"], "path 'a.jpg#x' contains '#': it would read as a URI fragment; for a file name with '#' in it, "
                  "give its file:// URI with %23"),
    (["s3://127.0.0.1/x.jpg"], "invalid S3 bucket name '127.0.0.1' in 's3://127.0.0.1/x.jpg': bucket names are not "
                               "formatted as an IP address"),
    (["s3://169.254.169.254/x.jpg"], "invalid S3 bucket name '169.254.169.254' in 's3://169.254.169.254/x.jpg': "
                                     "bucket names are not formatted as an IP address"),
    (["s3://ab/x.jpg"], "invalid S3 bucket name 'ab' in 's3://ab/x.jpg': bucket names are 3-63 characters long"),
    (["s3://-ugc/x.jpg"], "invalid S3 bucket name '-ugc' in 's3://-ugc/x.jpg': bucket names start and end with a "
                          "letter or digit"),
    (["s3://ugc..uploads/x.jpg"], "invalid S3 bucket name 'ugc..uploads' in 's3://ugc..uploads/x.jpg': bucket "
                                  "names do not contain '..'"),
    (["s3://xn--ugc/x.jpg"], "invalid S3 bucket name 'xn--ugc' in 's3://xn--ugc/x.jpg': the prefix 'xn--' is "
                             "reserved by S3"),
    (["s3://ugc-ap-s3alias/x.jpg"], "invalid S3 bucket name 'ugc-ap-s3alias' in 's3://ugc-ap-s3alias/x.jpg': the "
                                    "suffix '-s3alias' is reserved by S3"),
    (["s3://ugc-olap--ol-s3/x.jpg"], "invalid S3 bucket name 'ugc-olap--ol-s3' in 's3://ugc-olap--ol-s3/x.jpg': "
                                     "the suffix '--ol-s3' is reserved by S3"),
    # Issue 12.9: what the OS refuses about a path is bad input, never a traceback.
    (["loop.jpg"], "path 'loop.jpg' is not usable: it is a symlink loop (too many levels of symbolic links)"),
    (["a.jpg/b.jpg"], "path 'a.jpg/b.jpg' is not usable: a part of it that should be a directory is a file"),
    (["x" * 300 + ".jpg"], f"path '{'x' * 200}' is not usable: File name too long"),  # quoted up to 200
    (["albums"], "path 'albums' is not usable: it is a directory, not a file"),
    (["upload.fifo"], "path 'upload.fifo' is not usable: it is not a regular file"),
    (["a.jpg", "--external-id", "x" * 256], "external_id must be 1-255 characters"),
    (["a.jpg", "--external-id", ""], "external_id must be 1-255 characters"),
    (["a.jpg", "-m", "novalue"], "--metadata expects key=value, got 'novalue'"),
    (["a.jpg", "-m", "=v"], "--metadata expects key=value, got '=v'"),
    # Issue 16.4: the uploader's account, shown to reviewers.
    (["a.jpg", "--subject", "u" * 256], "subject_id must be 1-255 characters"),
    (["a.jpg", "--subject", ""], "subject_id must be 1-255 characters"),
    (["a.jpg", "--subject", "user\x07"], "subject_id must not contain control characters"),
    (["a.jpg", "--subject", "user\nname"], "subject_id must not contain control characters"),
    # Issue 16.1: items belong to a tenant that exists.
    (["a.jpg", "--tenant", "nobody"], "tenant: no tenant named 'nobody' (`modq tenants list` shows them)"),
    (["--from", "-", "--tenant", "nobody"], "tenant: no tenant named 'nobody' (`modq tenants list` shows them)"),
    (["a.jpg", "--tenant", "*"], "tenant: no tenant named '*' (`modq tenants list` shows them)"),
]

CONFIG = [
    # (environment, exact message)
    ({"MODQ_PROVIDER": "azure"}, "MODQ_PROVIDER: Input should be 'local', 'rekognition' or 'recorded'"),
    ({"MODQ_MAX_ATTEMPTS": "0"}, "MODQ_MAX_ATTEMPTS: Input should be greater than or equal to 1"),
    ({"MODQ_MAX_ATTEMPTS": "many"},
     "MODQ_MAX_ATTEMPTS: Input should be a valid integer, unable to parse string as an integer"),
    ({"MODQ_SNS_TOPIC_ARN": "my-topic"},
     "MODQ_SNS_TOPIC_ARN: Value error, not an SNS topic ARN (arn:aws:sns:<region>:<12-digit account>:<name>)"),
    ({"MODQ_THRESHOLDS": "/nonexistent/t.yaml"}, "MODQ_THRESHOLDS: Value error, no such file: /nonexistent/t.yaml"),
    ({"MODQ_LOG_FORMAT": "xml"}, "MODQ_LOG_FORMAT: Input should be 'auto', 'json' or 'console'"),
    ({"MODQ_REKOGNITION_TPS": "0"}, "MODQ_REKOGNITION_TPS: Input should be greater than 0"),
    ({"MODQ_REKOGNITION_OPERATION_TPS": "GetContentModeration=fast"},
     "MODQ_REKOGNITION_OPERATION_TPS: Value error, expected Operation=tps[,Operation=tps...] with tps > 0, "
     "got 'GetContentModeration=fast'"),
    ({"MODQ_REAPER_STUCK_AFTER_SECONDS": "60", "MODQ_RETRY_BACKOFF_MAX": "600"},
     "Value error, MODQ_REAPER_STUCK_AFTER_SECONDS must be greater than MODQ_RETRY_BACKOFF_MAX"),
    ({"MODQ_BROKER_KEY_PREFIX": "my prefix"}, "MODQ_BROKER_KEY_PREFIX: String should match pattern '^[A-Za-z0-9_.:-]*$'"),
    ({"MODQ_REVIEW_MAX_LEASE_SECONDS": "1h"},
     "MODQ_REVIEW_MAX_LEASE_SECONDS: Input should be a valid integer, unable to parse string as an integer"),
    ({"MODQ_REVIEW_MAX_LEASE_SECONDS": "172800"},
     "MODQ_REVIEW_MAX_LEASE_SECONDS: Input should be less than or equal to 86400"),
    ({"MODQ_REVIEW_LEASE_SECONDS": "7200"},
     "Value error, MODQ_REVIEW_LEASE_SECONDS must not be greater than MODQ_REVIEW_MAX_LEASE_SECONDS"),
    ({"MODQ_ANIMATION_MAX_FRAMES": "1"}, "MODQ_ANIMATION_MAX_FRAMES: Input should be greater than or equal to 2"),
    ({"MODQ_ANIMATION_MAX_FRAMES": "32", "MODQ_ANIMATION_MAX_FRAME_COUNT": "20"},
     "Value error, MODQ_ANIMATION_MAX_FRAMES must not be greater than MODQ_ANIMATION_MAX_FRAME_COUNT"),
    ({"MODQ_ANIMATION_MAX_TOTAL_PIXELS": "250M"},
     "MODQ_ANIMATION_MAX_TOTAL_PIXELS: Input should be a valid integer, unable to parse string as an integer"),
    ({"MODQ_ANIMATION_MAX_TOTAL_PIXELS": "1000"},
     "MODQ_ANIMATION_MAX_TOTAL_PIXELS: Input should be greater than or equal to 1000000"),
    ({"MODQ_MAX_DECODE_BYTES": "256"}, "MODQ_MAX_DECODE_BYTES: Input should be greater than or equal to 1048576"),
    ({"MODQ_MAX_DECODE_BYTES": "256MiB"},
     "MODQ_MAX_DECODE_BYTES: Input should be a valid integer, unable to parse string as an integer"),
    ({"MODQ_WORKER_MAX_MEMORY_PER_CHILD_MB": "1.5G"},
     "MODQ_WORKER_MAX_MEMORY_PER_CHILD_MB: Input should be a valid integer, unable to parse string as an integer"),
    ({"MODQ_WORKER_MAX_MEMORY_PER_CHILD_MB": "-1"},
     "MODQ_WORKER_MAX_MEMORY_PER_CHILD_MB: Input should be greater than or equal to 0"),
    ({"MODQ_WORKER_MAX_MEMORY_PER_CHILD_MB": "64"},
     "MODQ_WORKER_MAX_MEMORY_PER_CHILD_MB: Value error, 64 MiB is below what a pool process needs to start "
     "(about 110 MiB); use at least 128, or 0 to never replace a process"),
    ({"MODQ_WEBHOOK_ALLOW_HOSTS": "127.0.0.1,http://x"},
     "MODQ_WEBHOOK_ALLOW_HOSTS: Value error, 'http://x' is not a host name or IP address"),
    ({"MODQ_WEBHOOK_ALLOW_HTTP_HOSTS": "my host"},
     "MODQ_WEBHOOK_ALLOW_HTTP_HOSTS: Value error, 'my host' is not a host name or IP address"),
    ({"MODQ_WEBHOOK_TIMEOUT_SECONDS": "0"}, "MODQ_WEBHOOK_TIMEOUT_SECONDS: Input should be greater than 0"),
    ({"MODQ_APPEAL_WINDOW_DAYS": "0"}, "MODQ_APPEAL_WINDOW_DAYS: Input should be greater than or equal to 1"),
    ({"MODQ_APPEAL_WINDOW_DAYS": "6 months"},
     "MODQ_APPEAL_WINDOW_DAYS: Input should be a valid integer, unable to parse string as an integer"),
    ({"MODQ_WEBHOOK_RETRY_BASE_SECONDS": "60", "MODQ_WEBHOOK_RETRY_MAX_SECONDS": "30"},
     "Value error, MODQ_WEBHOOK_RETRY_BASE_SECONDS must not be greater than MODQ_WEBHOOK_RETRY_MAX_SECONDS"),
]


@pytest.fixture
def cli_env(rt, media_root, tmp_path, monkeypatch):
    (media_root / "a.jpg").write_bytes(jpeg_bytes())
    (tmp_path / "secret.jpg").write_bytes(jpeg_bytes())
    os.symlink(tmp_path / "secret.jpg", media_root / "escape.jpg")
    os.symlink("loop.jpg", media_root / "loop.jpg")  # a link to itself: ELOOP
    (media_root / "albums").mkdir()
    os.mkfifo(media_root / "upload.fifo")
    monkeypatch.setenv("MODQ_DATABASE_URL", rt.settings.database_url)
    monkeypatch.setenv("MODQ_MEDIA_ROOT", str(media_root))
    monkeypatch.setenv("MODQ_S3_BUCKETS", "ugc-uploads")
    get_settings.cache_clear()
    set_runtime(type(rt)(get_settings(), rt.policy, rt.dispatcher, rt.publisher))
    yield rt
    set_runtime(None)
    get_settings.cache_clear()


@pytest.mark.parametrize("args, message", SUBMIT, ids=[f"submit-{i}" for i in range(len(SUBMIT))])
def test_submit(cli_env, media_root, args, message):
    root = str(media_root.resolve())
    result = runner.invoke(app, ["submit", *(arg.replace(ROOT, root) for arg in args)])
    expected = message.replace(ROOT, root)
    assert (result.exit_code, result.stderr.replace("\n", "")) == (2, f"error: {expected}")
    assert cli_env.dispatcher.sent == []
    assert stored_rows(cli_env.settings.database_url) == {}  # no item, no audit event, nothing at all


@pytest.mark.parametrize("env, message", CONFIG, ids=[f"config-{i}" for i in range(len(CONFIG))])
def test_config(monkeypatch, env, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value) == f"invalid configuration: {message}"


WEBHOOKS = [
    # (arguments after `modq webhooks add`, exact message): the URL and events of an endpoint (README "Webhooks")
    (["--url", "http://hooks.example.com/x"], "url: must use https (plain http only for hosts in "
                                              "MODQ_WEBHOOK_ALLOW_HTTP_HOSTS, not 'hooks.example.com')"),
    (["--url", "https://10.2.3.4/x"], "url: 10.2.3.4 is a private address (allowed only for hosts in "
                                      "MODQ_WEBHOOK_ALLOW_HOSTS)"),
    (["--url", "https://169.254.1.1/x"], "url: 169.254.1.1 is a link-local address (allowed only for hosts in "
                                         "MODQ_WEBHOOK_ALLOW_HOSTS)"),
    (["--url", "https://169.254.169.254/x"], "url: 169.254.169.254 is a cloud metadata address (allowed only for "
                                             "hosts in MODQ_WEBHOOK_ALLOW_HOSTS)"),
    (["--url", "https://127.0.0.1:8443/x"], "url: 127.0.0.1 is a loopback address (allowed only for hosts in "
                                            "MODQ_WEBHOOK_ALLOW_HOSTS)"),
    (["--url", "https://me:pw@hooks.example.com/x"], "url: must not carry credentials (user:password@); the "
                                                     "signature authenticates modq"),
    (["--url", "https://hooks.example.com/", "--events", "item.decided,item.approved"],
     "events: unknown event 'item.approved'; choose from item.decided, item.reviewed, item.failed, subject.flagged, "
     "appeal.decided, review.undone, review.overridden, notice.decided"),
    (["--url", "https://hooks.example.com/", "--tenant", "nobody"],
     "tenant: no tenant named 'nobody' (`modq tenants list` shows them)"),
]


@pytest.mark.parametrize("args, message", WEBHOOKS, ids=[f"webhooks-{i}" for i in range(len(WEBHOOKS))])
def test_webhooks_add(cli_env, args, message):
    result = runner.invoke(app, ["webhooks", "add", *args])
    assert (result.exit_code, result.stderr.replace("\n", "")) == (2, f"error: {message}")
    assert stored_rows(cli_env.settings.database_url) == {}


TOKENS = [
    # (arguments after `modq tokens create`, exact message): whom a token acts for (README "Several platforms")
    (["--role", "ingest", "--name", "x", "--tenant", "nobody"],
     "tenant: no tenant named 'nobody' (`modq tenants list` shows them)"),
    (["--role", "reviewer", "--name", "x", "--tenant", "default,nobody"],
     "tenant: no tenant named 'nobody' (`modq tenants list` shows them)"),
    (["--role", "ingest", "--name", "x", "--tenant", "*"], "tenant: an ingest token submits for exactly one tenant"),
    (["--role", "reviewer", "--name", "x", "--tenant", "*", "--tenant", "default"],
     "tenant: '*' means every tenant; give it alone"),
    (["--role", "reviewer", "--name", "x", "--tenant", ""], "--tenant: name a tenant (or '*' for every tenant)"),
    (["--role", "reviewer", "--name", "api"], "token name must be 1-128 printable characters, not 'system', 'api' "
                                              "or 'cli:...'"),
]


TENANTS = [
    # (arguments after `modq tenants`, exact message)
    (["create", "Kids Forum"], "tenant: 'Kids Forum' is not a tenant name (1-63 of a-z, 0-9, '-', '_'; starting "
                               "with a letter or digit)"),
    (["create", "--", "-x"], "tenant: '-x' is not a tenant name (1-63 of a-z, 0-9, '-', '_'; starting with a "
                             "letter or digit)"),
    (["create", "t" * 64], f"tenant: {'t' * 64!r} is not a tenant name (1-63 of a-z, 0-9, '-', '_'; starting with "
                           "a letter or digit)"),
    (["create", "default"], "tenant: 'default' already exists"),
    (["show", "nobody"], "tenant: no tenant named 'nobody' (`modq tenants list` shows them)"),
]


@pytest.mark.parametrize("args, message", TENANTS, ids=[f"tenants-{i}" for i in range(len(TENANTS))])
def test_tenants(cli_env, args, message):
    result = runner.invoke(app, ["tenants", *args])
    assert (result.exit_code, result.stderr.replace("\n", ""), result.stdout) == (2, f"error: {message}", "")
    assert stored_rows(cli_env.settings.database_url) == {}


@pytest.mark.parametrize("args, message", TOKENS, ids=[f"tokens-{i}" for i in range(len(TOKENS))])
def test_tokens_create(cli_env, args, message):
    result = runner.invoke(app, ["tokens", "create", *args])
    assert (result.exit_code, result.stderr.replace("\n", ""), result.stdout) == (2, f"error: {message}", "")
    assert stored_rows(cli_env.settings.database_url) == {}


SEEDED = {"tenants": 1}  # the rows migrations write themselves: the tenant "default"


def stored_rows(database_url: str) -> dict[str, int]:
    """Rows in every table of the database (bar Alembic's own) beyond what migrations seed, by table: what a
    command stored."""
    with transaction(database_url) as s:
        tables = [t for t in inspect(s.get_bind()).get_table_names() if t != "alembic_version"]
        counts = {t: s.scalar(select(func.count()).select_from(table(t))) - SEEDED.get(t, 0) for t in tables}
    return {t: n for t, n in counts.items() if n}


def test_a_good_submit_is_stored_where_the_refusals_look(cli_env):
    """The control for "nothing is stored": the same check sees what an accepted submit stores."""
    result = runner.invoke(app, ["submit", "a.jpg"])
    assert result.exit_code == 0, result.stderr
    assert stored_rows(cli_env.settings.database_url) == {"items": 1, "audit_events": 1}
    assert len(cli_env.dispatcher.sent) == 1


# Media the worker refuses (issue 12.1): the item ends `failed` with exactly this reason, before any provider
# call and before its frames are decoded; nothing is stored but the item and its history.
MEDIA = [
    # (file name, how to make it, exact failure reason)
    ("bomb.gif", lambda: many_frame_gif(10_000),
     "animated gif has more than 1,000 frames, the limit (MODQ_ANIMATION_MAX_FRAME_COUNT)"),
    ("claims.png", lambda: apng_declaring(5_000),
     "animated png has more than 1,000 frames, the limit (MODQ_ANIMATION_MAX_FRAME_COUNT)"),
    ("wide.gif", lambda: many_frame_gif(300, size=(1000, 1000)),
     "animated gif has 300,000,000 pixels over its 300 frames, over the limit of 250,000,000 "
     "(MODQ_ANIMATION_MAX_TOTAL_PIXELS)"),
    ("pages.tiff", lambda: tiff_pages(*[(80, 80)] * 1_001),
     "multi-page tiff has more than 1,000 pages, the limit (MODQ_ANIMATION_MAX_FRAME_COUNT)"),
    ("thin-page.tiff", lambda: tiff_pages((200, 200), (40, 200)),
     "page 1 of the multi-page tiff is 40x200 px; each side must be at least 80 px"),
    # Decode budget (issue 12.3): refused from the header, before any pixel is decoded.
    ("rgb16.tif", lambda: crafted_media.tiff(10_000, 10_000, bits=16, samples=3),
     "image is 10000x10000 px with 3 x 16-bit samples: decoding it needs 572.2 MiB, over the decode budget of "
     "256 MiB (MODQ_MAX_DECODE_BYTES)"),
    ("rgba.png", lambda: crafted_media.png(9_000, 9_000, color_type=6),
     "image is 9000x9000 px with 4 x 8-bit samples: decoding it needs 309.0 MiB, over the decode budget of "
     "256 MiB (MODQ_MAX_DECODE_BYTES)"),
    ("wide.png", lambda: crafted_media.png(1_000_000, 100),
     "image is 1000000x100 px; each side must be at most 10,000 px"),
]


@pytest.mark.parametrize("name, make, message", MEDIA, ids=[row[0] for row in MEDIA])
def test_media(rt, media_root, fake_provider, name, make, message):
    (media_root / name).write_bytes(make())
    item_id = service.submit(name, rt=rt).item_id
    assert service.process_image(item_id, rt=rt) == "failed"
    with transaction(rt.settings.database_url) as s:
        assert s.get(m.Item, item_id).failure_reason == message
    assert fake_provider.calls == []
    assert stored_rows(rt.settings.database_url) == {"items": 1, "audit_events": 3}  # submit, processing, fail


# Videos the offline path refuses before decoding a frame (issue 12.3): `failed` with exactly this reason.
VIDEO_MEDIA = [
    # (file name, how to write it, exact failure reason)
    ("frames.mov", lambda path: crafted_media.png_frames_mov(path, 12_000),
     "video frames are 12000x12000 px: over the decode budget of 256 MiB (MODQ_MAX_DECODE_BYTES), which allows "
     "33,554,432 pixels a frame (at 8 bytes a pixel, the deepest format a frame may switch to)"),
]


@pytest.mark.parametrize("name, write, message", VIDEO_MEDIA, ids=[row[0] for row in VIDEO_MEDIA])
def test_video_media(rt, media_root, fake_provider, name, write, message):
    from moderation.video import services as video

    write(media_root / name)
    item_id = service.submit(name, rt=rt).item_id
    assert video.start(item_id, rt=rt) == "failed"
    with transaction(rt.settings.database_url) as s:
        assert s.get(m.Item, item_id).failure_reason == message
    assert fake_provider.calls == []
    assert stored_rows(rt.settings.database_url) == {"items": 1, "audit_events": 3}  # submit, processing, fail


POLICY = [
    # (arguments after `modq policy`, exact message): issue 16.2, a tenant's policy; "<file>" is a valid file
    (["apply", "<file>", "--tenant", "nosuch"], "tenant: no tenant named 'nosuch' (`modq tenants list` shows them)"),
    (["apply", "<file>", "--tenant", "nosuch", "--reevaluate"],
     "tenant: no tenant named 'nosuch' (`modq tenants list` shows them)"),
    (["simulate", "<file>", "--tenant", "nosuch"], "tenant: no tenant named 'nosuch' (`modq tenants list` shows them)"),
    (["history", "--tenant", "nosuch"], "tenant: no tenant named 'nosuch' (`modq tenants list` shows them)"),
    (["recommend", "--target-precision", "0.9", "--tenant", "nosuch"],
     "tenant: no tenant named 'nosuch' (`modq tenants list` shows them)"),
]


@pytest.mark.parametrize("args, message", POLICY, ids=[f"policy-{i}" for i in range(len(POLICY))])
def test_policy(cli_env, tmp_path, args, message):
    good = tmp_path / "thresholds.yaml"
    good.write_text("min_confidence: 50\ndefault: {flag: 80, reject: null}\n")
    result = runner.invoke(app, ["policy", *(str(good) if a == "<file>" else a for a in args)])
    assert (result.exit_code, result.stderr.replace("\n", "")) == (2, f"error: {message}")
    assert stored_rows(cli_env.settings.database_url) == {}  # no policy version, no activation, nothing at all
