"""RekognitionProvider against a real boto3 client wrapped in botocore's Stubber.

Stubber validates every request and every stubbed response against botocore's
real Rekognition model (required keys, types, unknown keys, ``min``), so the
request shapes and responses below are ones AWS could actually send/accept.
It does not check ``max``/ranges (../shared/REKOGNITION.md §6): those limits
are the provider's job and are tested here too.
"""

from __future__ import annotations

import json
import math

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from moderation.infra import aws
from moderation.domain.errors import BadInput, DeploymentFault, Throttled, TransientFault
from moderation.infra.media.imaging import PreparedImage, from_s3
from moderation.domain.labels import ModerationLabel
from moderation.providers.rekognition import RekognitionProvider

OP = "detect_moderation_labels"
IMAGE_BYTES = b"\xff\xd8\xff\xe0 pretend jpeg body \x00\x01\x02"

# AWS's v7 sample response (DetectModerationLabels docs): a level-3 label comes
# back together with its level-2 and level-1 ancestors at the same confidence.
V7_SAMPLE = {
    "ModerationLabels": [
        {"Confidence": 99.24723052978516, "Name": "Smoking",
         "ParentName": "Drugs & Tobacco Paraphernalia & Use", "TaxonomyLevel": 3},
        {"Confidence": 99.24723052978516, "Name": "Drugs & Tobacco Paraphernalia & Use",
         "ParentName": "Drugs & Tobacco", "TaxonomyLevel": 2},
        {"Confidence": 99.24723052978516, "Name": "Drugs & Tobacco", "ParentName": "", "TaxonomyLevel": 1},
    ],
    "ModerationModelVersion": "7.0",
    "ContentTypes": [{"Confidence": 99.9364013671875, "Name": "Illustrated"}],
}
RESPONSE_METADATA = {"RequestId": "7f1c0a52-0000-4000-8000-000000000001", "HTTPStatusCode": 200,
                     "HTTPHeaders": {"content-type": "application/x-amz-json-1.1"}, "RetryAttempts": 0}
ADAPTER_ARN = ("arn:aws:rekognition:us-east-1:123456789012:project/modq-adapter/version/"
               "modq-adapter.2026-11-01T10.00.00/1761991200000")


@pytest.fixture
def client():
    return boto3.client("rekognition", region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x")


@pytest.fixture
def stubber(client):
    with Stubber(client) as stub:
        yield stub


@pytest.fixture
def provider(client):
    return RekognitionProvider(client=client)


def bytes_image(data: bytes = IMAGE_BYTES) -> PreparedImage:
    return PreparedImage(data=data, format="jpeg", width=200, height=160, sha256="abc")


def with_metadata(response: dict) -> dict:
    return {**response, "ResponseMetadata": dict(RESPONSE_METADATA)}


# --- request shape ---------------------------------------------------------


def test_bytes_image_is_sent_as_image_bytes_with_min_confidence(provider, stubber):
    stubber.add_response(OP, {"ModerationLabels": [], "ModerationModelVersion": "7.0"},
                         expected_params={"Image": {"Bytes": IMAGE_BYTES}, "MinConfidence": 55.5})

    provider.analyze_image(bytes_image(), 55.5)

    stubber.assert_no_pending_responses()


def test_s3_image_without_version_sends_bucket_and_name_only(provider, stubber):
    stubber.add_response(OP, {"ModerationLabels": []},
                         expected_params={"Image": {"S3Object": {"Bucket": "modq-media", "Name": "in/cat.jpg"}},
                                          "MinConfidence": 50.0})

    provider.analyze_image(from_s3("modq-media", "in/cat.jpg"), 50.0)

    stubber.assert_no_pending_responses()


def test_s3_image_with_version_sends_version(provider, stubber):
    stubber.add_response(
        OP, {"ModerationLabels": []},
        expected_params={"Image": {"S3Object": {"Bucket": "modq-media", "Name": "in/cat.jpg",
                                                "Version": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"}},
                         "MinConfidence": 0.0})

    provider.analyze_image(from_s3("modq-media", "in/cat.jpg", "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"), 0.0)

    stubber.assert_no_pending_responses()


def test_s3_image_is_not_sent_as_bytes_even_if_bytes_are_present(provider, stubber):
    # Rekognition rejects an Image with both Bytes and S3Object; botocore would not.
    image = PreparedImage(data=IMAGE_BYTES, s3=from_s3("modq-media", "a.png").s3, format="png")
    stubber.add_response(OP, {"ModerationLabels": []},
                         expected_params={"Image": {"S3Object": {"Bucket": "modq-media", "Name": "a.png"}},
                                          "MinConfidence": 60.0})

    provider.analyze_image(image, 60.0)

    stubber.assert_no_pending_responses()


@pytest.mark.parametrize("min_confidence", [150, 100.01, -1, -0.5, math.nan])
def test_min_confidence_outside_0_100_is_bad_input_before_any_call(provider, stubber, min_confidence):
    # No response is queued: had the provider called Rekognition, Stubber would
    # raise UnStubbedResponseError instead of the BadInput we expect.
    with pytest.raises(BadInput, match="MinConfidence"):
        provider.analyze_image(bytes_image(), min_confidence)

    stubber.assert_no_pending_responses()


@pytest.mark.parametrize("min_confidence", [0, 100])
def test_min_confidence_bounds_are_accepted(provider, stubber, min_confidence):
    stubber.add_response(OP, {"ModerationLabels": []},
                         expected_params={"Image": {"Bytes": IMAGE_BYTES}, "MinConfidence": min_confidence})

    provider.analyze_image(bytes_image(), min_confidence)

    stubber.assert_no_pending_responses()


def test_empty_bytes_image_is_bad_input_without_a_call(provider, stubber):
    with pytest.raises(BadInput, match="no image bytes"):
        provider.analyze_image(PreparedImage(data=b""), 50)

    stubber.assert_no_pending_responses()


# --- response shapes -------------------------------------------------------


def test_no_labels(provider, stubber):
    response = {"ModerationLabels": [], "ModerationModelVersion": "7.0"}
    stubber.add_response(OP, with_metadata(response))

    analysis = provider.analyze_image(bytes_image(), 50)

    assert analysis.provider == "rekognition"
    assert analysis.labels == []
    assert analysis.content_types == []
    assert analysis.model_version == "7.0"
    assert analysis.raw == {"ModerationLabels": [], "ModerationModelVersion": "7.0"}


def test_response_without_model_version_is_reported_as_unknown(provider, stubber):
    stubber.add_response(OP, {"ModerationLabels": []})

    analysis = provider.analyze_image(bytes_image(), 50)

    assert analysis.model_version == "unknown"
    assert analysis.labels == []


def test_v7_three_level_sample_keeps_every_label_field(provider, stubber):
    stubber.add_response(OP, with_metadata(V7_SAMPLE))

    analysis = provider.analyze_image(bytes_image(), 50)

    assert analysis.model_version == "7.0"
    assert analysis.labels == [
        ModerationLabel("Smoking", "Drugs & Tobacco Paraphernalia & Use", 3, 99.24723052978516),
        ModerationLabel("Drugs & Tobacco Paraphernalia & Use", "Drugs & Tobacco", 2, 99.24723052978516),
        ModerationLabel("Drugs & Tobacco", "", 1, 99.24723052978516),
    ]
    assert analysis.labels_as_dicts() == [
        {"Name": "Smoking", "ParentName": "Drugs & Tobacco Paraphernalia & Use", "TaxonomyLevel": 3,
         "Confidence": 99.24723052978516},
        {"Name": "Drugs & Tobacco Paraphernalia & Use", "ParentName": "Drugs & Tobacco", "TaxonomyLevel": 2,
         "Confidence": 99.24723052978516},
        {"Name": "Drugs & Tobacco", "ParentName": "", "TaxonomyLevel": 1, "Confidence": 99.24723052978516},
    ]
    assert analysis.content_types == [{"Confidence": 99.9364013671875, "Name": "Illustrated"}]
    assert "ResponseMetadata" not in analysis.raw
    assert analysis.raw == {
        "ModerationLabels": [
            {"Confidence": 99.24723052978516, "Name": "Smoking",
             "ParentName": "Drugs & Tobacco Paraphernalia & Use", "TaxonomyLevel": 3},
            {"Confidence": 99.24723052978516, "Name": "Drugs & Tobacco Paraphernalia & Use",
             "ParentName": "Drugs & Tobacco", "TaxonomyLevel": 2},
            {"Confidence": 99.24723052978516, "Name": "Drugs & Tobacco", "ParentName": "",
             "TaxonomyLevel": 1},
        ],
        "ModerationModelVersion": "7.0",
        "ContentTypes": [{"Confidence": 99.9364013671875, "Name": "Illustrated"}],
    }


def test_content_types_are_kept_in_order(provider, stubber):
    response = {"ModerationLabels": [], "ModerationModelVersion": "7.0",
                "ContentTypes": [{"Confidence": 88.5, "Name": "Animated"},
                                 {"Confidence": 61.25, "Name": "Illustrated"}]}
    stubber.add_response(OP, with_metadata(response))

    analysis = provider.analyze_image(bytes_image(), 50)

    assert analysis.content_types == [{"Confidence": 88.5, "Name": "Animated"},
                                      {"Confidence": 61.25, "Name": "Illustrated"}]
    assert analysis.raw["ContentTypes"] == analysis.content_types


def test_human_loop_activation_output_is_kept_in_raw(provider, stubber):
    conditions = json.dumps({"Conditions": [{"ModerationLabelName": "Smoking", "ConditionsEvaluation": True}]})
    human_loop = {
        "HumanLoopArn": "arn:aws:sagemaker:us-east-1:123456789012:human-loop/modq-item-1",
        "HumanLoopActivationReasons": ["ConditionsEvaluation"],
        "HumanLoopActivationConditionsEvaluationResults": conditions,  # a str in boto3 (§1)
    }
    stubber.add_response(OP, with_metadata({**V7_SAMPLE, "HumanLoopActivationOutput": human_loop}))

    analysis = provider.analyze_image(bytes_image(), 50)

    kept = analysis.raw["HumanLoopActivationOutput"]
    assert kept["HumanLoopArn"] == "arn:aws:sagemaker:us-east-1:123456789012:human-loop/modq-item-1"
    assert kept["HumanLoopActivationReasons"] == ["ConditionsEvaluation"]
    assert json.loads(kept["HumanLoopActivationConditionsEvaluationResults"]) == {
        "Conditions": [{"ModerationLabelName": "Smoking", "ConditionsEvaluation": True}]}
    assert [lab.name for lab in analysis.labels] == ["Smoking", "Drugs & Tobacco Paraphernalia & Use",
                                                     "Drugs & Tobacco"]
    assert set(analysis.raw) == {"ModerationLabels", "ModerationModelVersion", "ContentTypes",
                                 "HumanLoopActivationOutput"}


def test_project_version_is_kept_in_raw(provider, stubber):
    response = {"ModerationLabels": [{"Confidence": 81.0, "Name": "Weapons", "ParentName": "Violence",
                                      "TaxonomyLevel": 2}],
                "ModerationModelVersion": "7.0", "ProjectVersion": ADAPTER_ARN}
    stubber.add_response(OP, with_metadata(response))

    analysis = provider.analyze_image(bytes_image(), 50)

    assert analysis.raw["ProjectVersion"] == ADAPTER_ARN
    assert analysis.labels == [ModerationLabel("Weapons", "Violence", 2, 81.0)]
    assert "ResponseMetadata" not in analysis.raw


def test_label_without_parent_or_level_gets_defaults(provider, stubber):
    # ParentName/TaxonomyLevel are optional in the model (v6-style answers).
    stubber.add_response(OP, {"ModerationLabels": [{"Confidence": 70.0, "Name": "Suggestive"}]})

    analysis = provider.analyze_image(bytes_image(), 50)

    assert analysis.labels == [ModerationLabel("Suggestive", "", 0, 70.0)]


@pytest.mark.parametrize("confidence", [150.0, 100.5])  # < 0 already fails Stubber (min 0)
def test_confidence_outside_0_100_in_a_response_is_refused(provider, stubber, confidence):
    # Stubber accepts it (it checks no ranges); the provider must not pass it on.
    stubber.add_response(OP, {"ModerationLabels": [
        {"Confidence": 90.0, "Name": "Weapons", "ParentName": "Violence", "TaxonomyLevel": 2},
        {"Confidence": confidence, "Name": "Violence", "ParentName": "", "TaxonomyLevel": 1},
    ], "ModerationModelVersion": "7.0"})

    with pytest.raises(TransientFault) as info:
        provider.analyze_image(bytes_image(), 50)

    assert str(confidence) in str(info.value)
    assert "'Violence'" in str(info.value)


# --- errors ---------------------------------------------------------------

ERRORS = [
    # code, http status, modeled fields, expected modq error
    ("InvalidParameterException", 400, None, BadInput),
    ("InvalidS3ObjectException", 400, None, BadInput),
    ("ImageTooLargeException", 400, None, BadInput),
    ("InvalidImageFormatException", 400, None, BadInput),
    ("AccessDeniedException", 400, None, DeploymentFault),
    # Throttling is a deferral: retried without charging the item an attempt.
    ("ThrottlingException", 400, None, Throttled),
    ("ThrottlingException", 500, None, Throttled),
    ("ProvisionedThroughputExceededException", 400, None, Throttled),
    ("InternalServerError", 500, None, TransientFault),
    ("HumanLoopQuotaExceededException", 400,
     {"ResourceType": "HumanLoop", "QuotaCode": "L-12345678", "ServiceCode": "sagemaker"}, TransientFault),
    # The adapter (ProjectVersion) is deployment configuration, not a property
    # of the submitted image: the operator must act, so it is a DeploymentFault.
    ("ResourceNotFoundException", 400, None, DeploymentFault),
    ("ResourceNotReadyException", 400, None, DeploymentFault),
]


@pytest.mark.parametrize("code, status, modeled, expected", ERRORS, ids=[f"{e[0]}-{e[1]}" for e in ERRORS])
def test_client_errors_map_to_modq_errors(provider, stubber, client, code, status, modeled, expected):
    stubber.add_client_error(OP, service_error_code=code, service_message=f"stub says {code}",
                             http_status_code=status, modeled_fields=modeled,
                             expected_params={"Image": {"Bytes": IMAGE_BYTES}, "MinConfidence": 50})

    with pytest.raises(expected) as info:
        provider.analyze_image(bytes_image(), 50)

    assert type(info.value) is expected  # not a subclass standing in for another class
    message = str(info.value)
    assert code in message
    assert "DetectModerationLabels" in message
    assert f"stub says {code}" in message
    stubber.assert_no_pending_responses()


def test_error_codes_in_the_table_are_real_modeled_exceptions(client):
    # Guards the table above against misspelt codes (§1: AccessDenied,
    # InternalServerErrorException ... do not exist and would only pass as
    # generic 4xx/5xx ClientErrors).
    for code, *_ in ERRORS:
        assert hasattr(client.exceptions, code), code


def test_unmodeled_5xx_code_is_transient(provider, stubber):
    stubber.add_client_error(OP, service_error_code="ServiceUnavailable", service_message="try later",
                             http_status_code=503)

    with pytest.raises(TransientFault, match="ServiceUnavailable"):
        provider.analyze_image(bytes_image(), 50)


def test_unmodeled_4xx_code_is_bad_input_naming_the_code(provider, stubber):
    stubber.add_client_error(OP, service_error_code="SomethingNew", service_message="no", http_status_code=400)

    with pytest.raises(BadInput, match="SomethingNew"):
        provider.analyze_image(bytes_image(), 50)


def test_connection_failure_is_transient():
    # A real transport error (nothing listens on port 1), one attempt only.
    from botocore.config import Config

    client = boto3.client("rekognition", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x", endpoint_url="http://127.0.0.1:1",
                          config=Config(retries={"mode": "standard", "total_max_attempts": 1},
                                        connect_timeout=2, read_timeout=2))

    with pytest.raises(TransientFault, match="unreachable"):
        RekognitionProvider(client=client).analyze_image(bytes_image(), 50)


# --- retries configured by moderation.infra.aws --------------------------------


class _Raw:
    """Just enough of a urllib3 response for botocore's AWSResponse."""

    def __init__(self, body: bytes):
        self._body = body

    def stream(self, *args, **kwargs):
        yield self._body


@pytest.fixture
def aws_env(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    # botocore 1.44.5 resolves the client region from AWS_DEFAULT_REGION only
    # (AWS_REGION is read solely for IMDS/auto mode), so set both.
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    aws.reset_clients()
    yield
    aws.reset_clients()


def _throttle_every_send(client, monkeypatch) -> list[str]:
    """Answer every HTTP attempt with a 400 ThrottlingException; return the log of attempts."""
    attempts: list[str] = []
    delays: list[float] = []
    monkeypatch.setattr("time.sleep", delays.append)  # botocore's backoff, without waiting

    def send(request, **kwargs):
        attempts.append(request.url)
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
        return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.1"}, _Raw(body))

    client.meta.events.register("before-send.rekognition.DetectModerationLabels", send)
    return attempts


@pytest.mark.parametrize("n", [2, 4])
def test_aws_client_uses_botocore_standard_retries(aws_env, n):
    client = aws.client("rekognition", max_attempts=n)

    retries = client.meta.config.retries
    assert retries["mode"] == "standard"
    assert retries["total_max_attempts"] == n
    assert client.meta.region_name == "us-east-1"
    assert aws.client("rekognition", max_attempts=n) is client  # cached per process and config
    assert aws.client("rekognition", max_attempts=n + 1) is not client


def test_throttling_is_retried_inside_the_call_then_transient(aws_env, monkeypatch):
    provider = RekognitionProvider(max_attempts=2)  # builds its client through moderation.infra.aws
    attempts = _throttle_every_send(provider.client, monkeypatch)

    with pytest.raises(TransientFault, match="ThrottlingException"):
        provider.analyze_image(bytes_image(), 50)

    assert len(attempts) == 2  # botocore retried inside the call, max_attempts in total


@pytest.mark.parametrize("n", [1, 3])
def test_aws_client_makes_exactly_max_attempts_attempts(aws_env, monkeypatch, n):
    # settings.aws_max_attempts means attempts per call (the first one included);
    # botocore's retries["max_attempts"] would count retries only (n + 1 total).
    client = aws.client("rekognition", max_attempts=n)
    assert client.meta.config.retries["total_max_attempts"] == n
    attempts = _throttle_every_send(client, monkeypatch)

    with pytest.raises(client.exceptions.ThrottlingException):
        client.detect_moderation_labels(Image={"Bytes": IMAGE_BYTES}, MinConfidence=50)

    assert len(attempts) == n
