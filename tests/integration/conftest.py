"""Real services for integration tests: PostgreSQL, Redis, Celery worker
processes, the fake Rekognition server and moto (SNS/SQS/S3) in server mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest
import redis
from sqlalchemy import select

from config.settings import Settings
from moderation.domain import policy
from moderation.bootstrap import Runtime, build_publisher
from moderation.infra import db
from moderation.items import models as m
from moderation.alerts.models import Alert
from tests.conftest import REPO
from tests.fakes.rekognition_server import FakeRekognition
from tests.integration.fresh_pg import fresh_database


@pytest.fixture(scope="session")
def pg_url():
    """A fresh PostgreSQL database for this test session, migrated with Alembic."""
    with fresh_database("modq_it") as url:
        yield url


@pytest.fixture(scope="session")
def broker_url():
    url = os.environ["MODQ_BROKER_URL"]
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory):
    """moto in its own process: an in-process server shares its backends with
    every ``moto.mock_aws()`` in the test session, which resets them."""
    port = _free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: _answers(url) or proc.poll() is not None, 30, 0.1, "moto server to start")
    assert proc.poll() is None, "moto server exited at start-up"
    yield url
    proc.terminate()
    proc.wait(10)
    log.close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    import urllib.request

    try:
        urllib.request.urlopen(url + "/moto-api/", timeout=1)
        return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def fake_rekognition():
    with FakeRekognition() as fake:
        yield fake


@pytest.fixture
def rekognition(fake_rekognition, moto_endpoint):
    fake_rekognition.reset()
    # Its S3 objects exist in moto's S3 too: the worker checks an object's ETag there before paying for a call.
    fake_rekognition.s3_mirror = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    yield fake_rekognition
    assert fake_rekognition.shape_errors == [], "the fake answered something botocore's model rejects"


@pytest.fixture(scope="session")
def alert_queue(moto_endpoint):
    """An SNS topic with an SQS queue subscribed (SNS envelope, not raw)."""
    sns = boto3.client("sns", endpoint_url=moto_endpoint, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")
    topic_arn = sns.create_topic(Name="modq-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="modq-alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return AlertQueue(topic_arn, queue_url, sqs)


class AlertQueue:
    def __init__(self, topic_arn: str, queue_url: str, sqs):
        self.topic_arn, self.queue_url, self.sqs = topic_arn, queue_url, sqs

    def drain(self) -> list[dict]:
        """Every message now in the queue, as the SNS envelope with ``Message`` parsed."""
        found = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return found
            for msg in batch:
                envelope = json.loads(msg["Body"])
                envelope["Message"] = json.loads(envelope["Message"])
                found.append(envelope)
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=msg["ReceiptHandle"])


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def worker_env(pg_url, broker_url, moto_endpoint, fake_rekognition, alert_queue, media_dir) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODQ_")}
    env.update({
        "MODQ_DATABASE_URL": pg_url,
        "MODQ_BROKER_URL": broker_url,
        "MODQ_PROVIDER": "rekognition",
        "MODQ_SNS_TOPIC_ARN": alert_queue.topic_arn,
        "MODQ_MEDIA_ROOT": str(media_dir),
        "MODQ_MAX_ATTEMPTS": "3",
        "MODQ_RETRY_BACKOFF_MAX": "2",
        "MODQ_AWS_MAX_ATTEMPTS": "2",
        "MODQ_LOG_FORMAT": "json",
        "AWS_ENDPOINT_URL_REKOGNITION": fake_rekognition.endpoint_url,
        "AWS_ENDPOINT_URL_SNS": moto_endpoint,
        "AWS_ENDPOINT_URL_SQS": moto_endpoint,
        "AWS_ENDPOINT_URL_S3": moto_endpoint,
        "AWS_RETRY_MODE": "standard",
    })
    return env


class WorkerProcess:
    """A real ``celery -A worker worker`` process, started and stopped by tests."""

    def __init__(self, env: dict[str, str], log_path: Path, queues: str = "images,alerts",
                 pool: str = "threads", concurrency: int = 4, extra_args: list[str] | None = None):
        self.log_path = log_path
        cmd = [sys.executable, "-m", "celery", "-A", "worker", "worker", "-Q", queues, "-P", pool,
               "-c", str(concurrency), "--without-gossip", "--without-mingle", "--without-heartbeat",
               "-l", "INFO", "-n", f"test-{uuid.uuid4().hex[:6]}@%h", *(extra_args or [])]
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{self.output()}")
            if " ready." in self.output():
                return
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready after {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="session")
def worker(worker_env, tmp_path_factory):
    proc = WorkerProcess(worker_env, tmp_path_factory.mktemp("worker") / "worker.log")
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def it_settings(worker_env) -> Settings:
    return Settings(database_url=worker_env["MODQ_DATABASE_URL"], broker_url=worker_env["MODQ_BROKER_URL"],
                    provider="rekognition", sns_topic_arn=worker_env["MODQ_SNS_TOPIC_ARN"],
                    media_root=Path(worker_env["MODQ_MEDIA_ROOT"]))


@pytest.fixture(scope="session")
def it_runtime(it_settings) -> Runtime:
    """The submitting side: same settings as the worker, real Celery dispatcher."""
    from worker.app import dispatcher

    return Runtime(it_settings, policy.load(it_settings.thresholds), dispatcher(), build_publisher(it_settings))


def wait_for(predicate, timeout: float = 60, interval: float = 0.2, message: str = "condition"):
    """Poll until ``predicate()`` is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def items_by_id(database_url: str, ids: list[str]) -> dict[str, m.Item]:
    with db.transaction(database_url) as s:
        return {i.id: i for i in s.scalars(select(m.Item).where(m.Item.id.in_(ids)))}


def wait_terminal(database_url: str, ids: list[str], timeout: float = 90) -> dict[str, m.Item]:
    def done():
        rows = items_by_id(database_url, ids)
        return rows if len(rows) == len(ids) and all(r.status in m.TERMINAL for r in rows.values()) else None

    return wait_for(done, timeout, message=f"{len(ids)} items to reach a terminal status")


def wait_alerts_published(database_url: str, ids: list[str], timeout: float = 60) -> list[Alert]:
    def published():
        with db.transaction(database_url) as s:
            rows = list(s.scalars(select(Alert).where(Alert.item_id.in_(ids))))
        return rows if rows and all(a.published_at for a in rows) else None

    return wait_for(published, timeout, message="alerts to be published")
