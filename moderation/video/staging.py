"""Getting a video to where its provider can read it.

Rekognition reads stored video only from S3: a local file is uploaded to
``MODQ_VIDEO_STAGING_BUCKET`` first (and deleted once the job has ended), or
the item fails saying so. The offline model needs a local file: an S3 video is
downloaded to a temporary file, its size checked before a byte is fetched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

import av
import structlog
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import BotoCoreError, ClientError

from moderation.infra import aws
from moderation.infra.media import local, uris as media
from moderation.domain.errors import BadInput, DeploymentFault, TransientFault
from moderation.infra.media.imaging import S3Object

log = structlog.get_logger("modq.staging")
STAGING_PREFIX = "modq-staging"
REKOGNITION_MAX_BYTES = 10 * 1024**3


def check_local_video(ref: media.MediaRef, max_bytes: int) -> int:
    """Size of a local video file after the checks worth doing before any upload or decode."""
    with local.open_file(ref.path) as fh:  # BadInput if it went away or cannot be read
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(32)
    if size == 0:
        raise BadInput("file is empty (0 bytes)")
    if size > max_bytes:
        raise BadInput(f"video is {size:,} bytes, over the limit of {max_bytes:,} (MODQ_VIDEO_MAX_BYTES)")
    if media.kind_of(media.sniff(head)) != "video":
        raise BadInput("not an MP4 or MOV video: the content does not start with an ISO media header")
    return size


def stage(s3, ref: media.MediaRef, bucket: str | None, item_id: str, generation: int, max_bytes: int) -> S3Object:
    """Upload a local video for Rekognition; the key is stable per item and attempt, so a retry overwrites."""
    if not bucket:
        raise BadInput("Rekognition reads stored video only from S3 and MODQ_VIDEO_STAGING_BUCKET is not set: "
                       "submit an s3:// URI, set a staging bucket, or use MODQ_PROVIDER=local for local files")
    check_local_video(ref, min(max_bytes, REKOGNITION_MAX_BYTES))
    _check_codec(ref.path)  # before uploading gigabytes for a job that would fail
    key = f"{STAGING_PREFIX}/{item_id}/{generation}{ref.path.suffix.lower()}"
    try:
        s3.upload_file(str(ref.path), bucket, key)  # multipart for large files
    except S3UploadFailedError as exc:  # boto3 keeps only the text of the ClientError
        text = str(exc)
        if "AccessDenied" in text or "NoSuchBucket" in text:
            raise DeploymentFault(f"cannot upload to the staging bucket s3://{bucket}: {text}") from None
        raise TransientFault(f"upload to s3://{bucket}/{key} failed: {text}") from None
    except ClientError as exc:
        raise TransientFault(f"upload to s3://{bucket}/{key} failed: {exc}") from None
    except BotoCoreError as exc:  # no credentials or region is a deployment fault, not worth a retry
        raise aws.botocore_fault(exc, "S3", s3, transient=f"upload to s3://{bucket}/{key} failed: {exc}") from None
    log.info("video_staged", bucket=bucket, key=key)
    return S3Object(bucket, key)


def _check_codec(path: Path) -> None:
    """Rekognition takes H.264 in MP4/MOV only (../shared/REKOGNITION.md §2); the headers say which codec."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise BadInput("the file has no video stream")
            codec = container.streams.video[0].codec_context.name
    except av.FFmpegError as exc:
        raise BadInput(f"not a readable video (corrupt, truncated or unsupported container): {exc}") from None
    if codec != "h264":
        raise BadInput(f"Rekognition accepts H.264 video only and this one is {codec}: transcode it, "
                       f"or use MODQ_PROVIDER=local")


def unstage(s3, bucket: str, key: str) -> None:
    """Best effort: a leftover object costs storage, not correctness (add a lifecycle rule too)."""
    try:
        s3.delete_object(Bucket=bucket, Key=key)
    except (ClientError, BotoCoreError) as exc:
        log.warning("unstage_failed", bucket=bucket, key=key, error=str(exc))


@contextlib.contextmanager
def local_copy(s3, ref: media.MediaRef, max_bytes: int) -> Iterator[Path]:
    """A local path for the video: the file itself, or an S3 object downloaded to a temporary file."""
    if ref.scheme == "file":
        check_local_video(ref, max_bytes)
        yield ref.path
        return
    extra = {"VersionId": ref.version} if ref.version else {}
    where = f"s3://{ref.bucket}/{ref.key}"
    with tempfile.TemporaryDirectory(prefix="modq-video-") as tmp:
        path = Path(tmp) / ("video" + Path(ref.key).suffix.lower())
        with aws.reading_s3(where, s3):
            size = s3.head_object(Bucket=ref.bucket, Key=ref.key, **extra)["ContentLength"]
            if size > max_bytes:
                raise BadInput(f"{where} is {size:,} bytes, over the limit of {max_bytes:,} (MODQ_VIDEO_MAX_BYTES)")
            s3.download_file(ref.bucket, ref.key, str(path), ExtraArgs=extra or None)
        check_local_video(media.MediaRef(uri=ref.uri, scheme="file", path=path), max_bytes)
        yield path
