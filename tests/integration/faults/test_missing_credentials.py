"""Missing AWS credentials are a deployment fault, not a transient one: a real worker with no
credentials anywhere in the SDK chain fails an ``s3://`` item on its first attempt, with a one-line
reason, no traceback and an operator alert; after ``modq items retry`` the attempt count shown is
the one that applies.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from moderation.infra import db
from moderation.alerts.models import Alert
from tests.conftest import REPO
from tests.integration.faults.conftest import APPROVE

pytestmark = pytest.mark.integration
MODQ = str(Path(sys.executable).with_name("modq"))
REASON = ("no AWS credentials for S3: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, "
          "or give the host a role")


def modq(deployment, *args: str) -> str:
    result = subprocess.run([MODQ, *args], cwd=REPO, env=deployment.env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_an_s3_item_without_aws_credentials_fails_at_once_in_one_line_with_an_operator_alert(deployment, tmp_path):
    nowhere = str(tmp_path / "no-such-file")
    # The local provider reads s3:// media itself; the SDK finds no credentials in the environment, the
    # shared files or instance metadata. Only the images queue: SNS has no credentials either, so the
    # operator alert stays in the outbox for the relay (checked below) instead of being published here.
    worker = deployment.worker(queues="images", MODQ_PROVIDER="local", AWS_ACCESS_KEY_ID="",
                               AWS_SECRET_ACCESS_KEY="", AWS_SHARED_CREDENTIALS_FILE=nowhere,
                               AWS_CONFIG_FILE=nowhere, AWS_EC2_METADATA_DISABLED="true")
    item_id = deployment.submit(APPROVE)

    row = deployment.wait_decided([item_id])[item_id]
    assert (row.status, row.failure_reason, row.attempts) == ("failed", REASON, 1)  # not retried
    assert [e["reason"] for e in deployment.log_events("failed")] == [REASON]
    assert "Traceback" not in worker.output() and "Unable to locate credentials" not in worker.output()
    with db.transaction(deployment.database_url) as s:
        alerts = [(a.kind, a.message["reason"]) for a in s.scalars(select(Alert).where(Alert.item_id == item_id))]
    assert alerts == [("deployment", REASON)]

    assert item_id in modq(deployment, "items", "retry", item_id)
    deployment.wait_decided([item_id])
    shown = json.loads(modq(deployment, "items", "show", item_id, "--json"))
    assert (shown["status"], shown["failure_reason"], shown["attempts"]) == ("failed", REASON, 1)  # not 2
    assert "Traceback" not in worker.output()
