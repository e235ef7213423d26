"""Amazon Rekognition DetectModerationLabels (images).

Error classes follow ../shared/REKOGNITION.md §1: bad input is final,
throttling/5xx are retried by botocore (standard mode) and, if still failing,
handed back as ``TransientFault`` for the task's own backoff (throttling as
``Throttled``, which does not charge the item an attempt); access denied, and
missing credentials or region (``aws.botocore_fault``), are deployment faults
that fail the item at once with an operator alert. Rate limiting and the circuit
breaker sit on the client itself (``providers/guard.py``).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from moderation.infra import aws
from moderation.domain.errors import BadInput, DeploymentFault, Throttled, TransientFault
from moderation.infra.media.imaging import PreparedImage
from moderation.domain.labels import Analysis, ModerationLabel

BAD_INPUT = {
    "InvalidParameterException": "Rekognition rejected a parameter",
    "InvalidS3ObjectException": "Rekognition cannot read the S3 object (missing key, other region, or no read access)",
    "ImageTooLargeException": "image is over Rekognition's size or resolution limit",
    "InvalidImageFormatException": "Rekognition accepts only JPEG or PNG",
}
DEPLOYMENT = {  # the operator must act; the submitted media is not at fault
    "AccessDeniedException": "IAM denied rekognition:DetectModerationLabels (and s3:GetObject for S3 media)",
    "ResourceNotFoundException": "the Custom Moderation adapter was not found",
    "ResourceNotReadyException": "the Custom Moderation adapter is not ready",
}
THROTTLING = {"ThrottlingException", "ProvisionedThroughputExceededException"}
TRANSIENT = {
    "ThrottlingException", "ProvisionedThroughputExceededException", "InternalServerError",
    "HumanLoopQuotaExceededException", "ServiceUnavailableException",
}


class RekognitionClient:
    """A Rekognition client given (tests) or built on first use (after fork, once per process)."""

    name = "rekognition"

    def __init__(self, client=None, max_attempts: int = 3, timeout: float = 10.0, pool: int = 10):
        self._client = client
        self._client_args = (max_attempts, timeout, pool)

    @property
    def client(self):
        if self._client is None:
            self._client = aws.client("rekognition", *self._client_args)
        return self._client


class RekognitionProvider(RekognitionClient):
    reads_s3_directly = True

    def analyze_image(self, image: PreparedImage, min_confidence: float) -> Analysis:
        if not 0 <= min_confidence <= 100:  # botocore does not check the max
            raise BadInput(f"MinConfidence {min_confidence} is outside 0-100")
        try:
            response = self.client.detect_moderation_labels(Image=_image_param(image), MinConfidence=min_confidence)
        except ClientError as exc:
            raise classify(exc, "DetectModerationLabels") from None
        except BotoCoreError as exc:  # no answer: credentials, region, or connection errors after botocore's retries
            raise aws.botocore_fault(exc, "Rekognition", self._client) from None
        return to_analysis(response)


def _image_param(image: PreparedImage) -> dict[str, Any]:
    if image.s3 is not None:
        obj = {"Bucket": image.s3.bucket, "Name": image.s3.key}
        if image.s3.version:
            obj["Version"] = image.s3.version
        return {"S3Object": obj}
    if not image.data:
        raise BadInput("no image bytes to send")
    return {"Bytes": image.data}


def classify(exc: ClientError, operation: str) -> Exception:
    """The modq error a Rekognition ``ClientError`` stands for."""
    code = aws.error_code(exc)
    message = exc.response.get("Error", {}).get("Message", "")
    detail = f"{operation} {code}" + (f": {message}" if message else "")
    if code in BAD_INPUT:
        return BadInput(f"{BAD_INPUT[code]} ({detail})")
    if code in DEPLOYMENT:
        return DeploymentFault(f"{DEPLOYMENT[code]} ({detail})")
    if code in THROTTLING:  # not the item's fault: retried without charging an attempt (errors.Deferred)
        return Throttled(f"Rekognition still failing after retries ({detail})")
    if code in TRANSIENT or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
        return TransientFault(f"Rekognition still failing after retries ({detail})")
    return BadInput(f"Rekognition refused the request ({detail})")


def to_analysis(response: dict[str, Any]) -> Analysis:
    labels = [_label(d) for d in response.get("ModerationLabels", [])]
    raw = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    return Analysis(
        provider="rekognition",
        model_version=response.get("ModerationModelVersion", "unknown"),
        labels=labels,
        content_types=list(response.get("ContentTypes", [])),
        raw=raw,
    )


def _label(d: dict[str, Any]) -> ModerationLabel:
    confidence = float(d.get("Confidence", 0.0))
    if not 0 <= confidence <= 100:  # botocore does not check ranges in responses
        raise TransientFault(f"Rekognition returned confidence {confidence} for {d.get('Name')!r}")
    return ModerationLabel(d["Name"], d.get("ParentName", ""), int(d.get("TaxonomyLevel", 0)), confidence)
