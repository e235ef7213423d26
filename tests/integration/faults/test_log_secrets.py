"""Security: no credential, token or presigned URL in the worker's logs.

A worker runs at DEBUG (where botocore would print every request's SigV4
Authorization header and session token) with distinctive AWS credentials and a
session token in its environment, a database URL carrying a password, and
alerts going to the log (no SNS topic). Two items' external ids are real
presigned S3 URLs, the kind a platform might use as its own ids; their alerts
are logged. The captured output must not contain the secret key, the session
token, the password, or any signature or key id from the URLs.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, quote, urlparse

import boto3
import pytest
from botocore.config import Config
from sqlalchemy.engine import make_url

from moderation.items import services as service
from tests.integration.faults.conftest import BUCKET, FLAG

pytestmark = pytest.mark.integration
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLEsessionTOKEN/" + "x" * 40
DB_PASSWORD = "pg-Pa55word-not-for-logs"


def presign() -> str:
    """A presigned GET URL as boto3 makes it with SigV2 (Signature=..., short enough for an external id)."""
    s3 = boto3.client("s3", region_name="us-east-1", config=Config(signature_version="s3"),
                      aws_access_key_id="AKIAMODQLOGTEST00001", aws_secret_access_key=SECRET_KEY)
    return s3.generate_presigned_url("get_object", Params={"Bucket": "ugc", "Key": f"u/{uuid.uuid4().hex}.jpg"})


def test_worker_logs_carry_no_credentials_or_presigned_urls(deployment, pg_url):
    urls = [presign(), presign()]
    signatures = [parse_qs(urlparse(u).query)["Signature"][0] for u in urls]
    worker = deployment.worker(
        concurrency=2, MODQ_LOG_LEVEL="DEBUG", MODQ_SNS_TOPIC_ARN="",
        AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_SESSION_TOKEN=SESSION_TOKEN,
        MODQ_DATABASE_URL=make_url(pg_url).set(password=DB_PASSWORD).render_as_string(hide_password=False))

    flagged = []
    for url in urls:
        key = f"{uuid.uuid4().hex}.jpg"
        deployment.rekognition.add_s3_object(BUCKET, key, labels=FLAG)
        flagged.append(service.submit(f"s3://{BUCKET}/{key}", external_id=url, rt=deployment.rt).item_id)
    failing = deployment.submit(error="InternalServerError")
    deployment.wait_decided([*flagged, failing])

    log = worker.output()
    assert log.count('"event": "alert"') == 2, "both presigned ids were logged (redacted) with their alerts"
    assert "&Signature=[redacted]" in log and "AWSAccessKeyId=[redacted]" in log
    assert "gave up after 3 attempts" in log
    for secret in (SECRET_KEY, SESSION_TOKEN, DB_PASSWORD, *signatures, *map(quote, signatures)):
        assert secret not in log
    assert not re.search(r"(X-Amz-(Signature|Credential|Security-Token)|[?&](Signature|AWSAccessKeyId|"
                         r"x-amz-security-token))=(?!\[redacted\])", log)
    # botocore at DEBUG would print each request's SigV4 Authorization header and session token
    assert not re.search(r"Signature=[0-9a-f]{64}", log)
