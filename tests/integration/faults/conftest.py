"""Fault-injection harness: one modq deployment per test on the shared services.

Each test gets a ``Deployment``: its own broker namespace on the test Redis
database (MODQ_BROKER_KEY_PREFIX, so the session's other workers never take
its tasks and "Redis lost everything" can be played on its keys alone), its
own SNS topic and SQS queue in moto, and workers/beat it starts, kills and
restarts at will. PostgreSQL and the fake Rekognition server are shared;
items are told apart by id.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
import redis
from celery import Celery
from sqlalchemy import func, select, update

from config.settings import Settings
from moderation.domain import policy
from moderation.items import services as service
from moderation.bootstrap import Runtime, build_publisher
from moderation.infra import db
from moderation.items import models as m
from moderation.infra.clock import utcnow
from moderation.alerts.models import Alert
from tests.conftest import REPO
from tests.fakes.providers import labels_for
from tests.integration.conftest import AlertQueue, wait_for

BUCKET = "fault-uploads"


def rek_labels(name: str, confidence: float) -> list[dict]:
    return [lab.to_dict() for lab in labels_for(name, confidence)]


FLAG = rek_labels("Nazi Party", 72)  # flagged, with an alert
APPROVE: list[dict] = []  # approved, no alert


class Process:
    """A celery worker or beat process in its own process group (so a kill takes its pool too)."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path, ready: str, timeout: float = 60):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "celery", *args], cwd=REPO, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while ready not in self.output():
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery {args[2]} exited with {self.proc.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"celery {args[2]} not ready after {timeout}s:\n{self.output()}")
            time.sleep(0.05)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def children(self) -> list[int]:
        """Pool processes of a prefork worker."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.pid:
                    found.append(int(entry.name))
        return found

    def kill(self) -> None:
        """SIGKILL the whole process group: no warm shutdown, no chance to give tasks back."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait(10)

    def kill_pool_processes(self) -> list[int]:
        """SIGKILL a prefork worker's pool processes, as the OOM killer would; the parent lives on."""
        pids = self.children()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return pids

    def terminate(self) -> None:
        """SIGTERM to the main process: Celery's warm shutdown."""
        self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        try:
            os.killpg(self.pid, signal.SIGKILL)  # leftovers of a killed parent
        except (ProcessLookupError, PermissionError):
            pass
        self.log.close()


class PrefixedDispatcher:
    """The submitting side's dispatcher, publishing into one deployment's broker namespace."""

    def __init__(self, broker_url: str, prefix: str):
        self.app = Celery("modq-test-client", broker=broker_url)
        self.app.conf.update(broker_transport_options={"global_keyprefix": prefix}, task_serializer="json")

    def moderate(self, item_id: str, media_type: str) -> None:
        self.send("modq.moderate_image", item_id, queue="images")

    def publish_alerts(self, alert_ids: list[int]) -> None:
        for alert_id in alert_ids:
            self.send("modq.publish_alert", alert_id, queue="alerts")

    def send(self, task: str, *args, **options):
        return self.app.send_task(task, args, **options)


@dataclass
class Deployment:
    prefix: str
    env: dict[str, str]
    rt: Runtime
    dispatcher: PrefixedDispatcher
    alerts: AlertQueue
    rekognition: object
    tmp: Path
    processes: list[Process] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)  # item id -> its S3 key at the fake

    @property
    def database_url(self) -> str:
        return self.rt.settings.database_url

    def worker(self, app: str = "worker", queues: str = "images,alerts,maintenance", pool: str = "threads",
               concurrency: int = 4, **env: str) -> Process:
        name = f"fault-{uuid.uuid4().hex[:6]}"
        args = ["-A", app, "worker", "-Q", queues, "-P", pool, "-c", str(concurrency), "--without-gossip",
                "--without-mingle", "--without-heartbeat", "-l", "INFO", "-n", f"{name}@%h"]
        proc = Process(args, {**self.env, **env}, self.tmp / f"{name}.log", ready=" ready.")
        self.processes.append(proc)
        return proc

    def beat(self, **env: str) -> Process:
        name = f"beat-{uuid.uuid4().hex[:6]}"
        args = ["-A", "worker", "beat", "-s", str(self.tmp / f"{name}.schedule"), "--max-interval", "1",
                "-l", "INFO"]
        proc = Process(args, {**self.env, **env}, self.tmp / f"{name}.log", ready="Starting")
        self.processes.append(proc)
        return proc

    def submit(self, labels: list[dict] | None = None, error: str | None = None) -> str:
        key = f"{uuid.uuid4().hex[:12]}.jpg"
        self.rekognition.add_s3_object(BUCKET, key, labels=labels or [], error=error)
        item_id = service.submit(f"s3://{BUCKET}/{key}", external_id=f"{self.prefix}{key}", rt=self.rt).item_id
        self.keys[item_id] = key
        return item_id

    def calls_for(self, item_id: str) -> int:
        """DetectModerationLabels requests the fake received for this item."""
        key = self.keys[item_id]
        return sum(1 for op, body in list(self.rekognition.requests)
                   if op == "DetectModerationLabels" and body.get("Image", {}).get("S3Object", {}).get("Name") == key)

    def log_events(self, event: str) -> list[dict]:
        """JSON log lines named ``event`` from every process this deployment started."""
        found = []
        for proc in self.processes:
            for line in proc.output().splitlines():
                if line.startswith("{") and f'"{event}"' in line:
                    record = json.loads(line)
                    if record.get("event") == event:
                        found.append(record)
        return found

    def broker_keys(self) -> list[bytes]:
        return list(redis.Redis.from_url(self.env["MODQ_BROKER_URL"]).scan_iter(f"{self.prefix}*"))

    def lose_broker_state(self) -> int:
        """What a Redis restart without persistence does to this deployment: every key gone."""
        client = redis.Redis.from_url(self.env["MODQ_BROKER_URL"])
        keys = self.broker_keys()
        return client.delete(*keys) if keys else 0

    def queued_in_broker(self, queue: str = "images") -> int:
        return redis.Redis.from_url(self.env["MODQ_BROKER_URL"]).llen(f"{self.prefix}{queue}")

    def outcomes(self, ids: list[str]) -> dict[str, tuple[str, int, int]]:
        """item id -> (status, decision rows, alert rows)."""
        with db.transaction(self.database_url) as s:
            status = dict(s.execute(select(m.Item.id, m.Item.status).where(m.Item.id.in_(ids))).all())
            decisions = dict(s.execute(select(m.Decision.item_id, func.count()).where(m.Decision.item_id.in_(ids))
                                       .group_by(m.Decision.item_id)).all())
            alerts = dict(s.execute(select(Alert.item_id, func.count()).where(Alert.item_id.in_(ids))
                                    .group_by(Alert.item_id)).all())
        return {i: (status.get(i), decisions.get(i, 0), alerts.get(i, 0)) for i in ids}

    def wait_decided(self, ids: list[str], timeout: float = 60) -> dict[str, m.Item]:
        def done():
            with db.transaction(self.database_url) as s:
                rows = {i.id: i for i in s.scalars(select(m.Item).where(m.Item.id.in_(ids)))}
            return rows if all(r.status in m.TERMINAL for r in rows.values()) and len(rows) == len(ids) else None

        return wait_for(done, timeout, message=f"{len(ids)} items to reach a terminal status")

    @property
    def outbox_interval(self) -> float:
        return float(self.env["MODQ_OUTBOX_INTERVAL_SECONDS"])

    def sqs_messages_per_item(self, expected: int, timeout: float = 30) -> Counter:
        """Collect SNS->SQS messages until ``expected`` arrived, then long enough to catch duplicates.

        A duplicate may come from the next outbox flush, not only right behind the first copy: the
        window spans two flush intervals, so at least one whole flush starts and ends inside it.
        """
        seen: list[dict] = []
        wait_for(lambda: seen.extend(self.alerts.drain()) or len(seen) >= expected, timeout,
                 message=f"{expected} alert messages")
        end = time.monotonic() + 2 * self.outbox_interval
        while time.monotonic() < end:
            seen.extend(self.alerts.drain())
            time.sleep(0.1)
        return Counter(msg["Message"]["item_id"] for msg in seen)


def in_flight(deployment, n: int, timeout: float = 20) -> None:
    wait_for(lambda: deployment.rekognition.calls["DetectModerationLabels"] >= n, timeout,
             message=f"{n} Rekognition calls in flight")


def assert_decided_once(deployment, items: dict[str, list[dict]]) -> None:
    rows = deployment.wait_decided(list(items), timeout=60)
    outcomes = deployment.outcomes(list(items))
    for item_id, labels in items.items():
        expected = "flagged" if labels else "approved"
        assert rows[item_id].status == expected, (item_id, rows[item_id].failure_reason)
        assert outcomes[item_id][1:] == (1, 1 if labels else 0), "one decision row, one alert row"
    flagged = [i for i, lab in items.items() if lab]
    per_item = deployment.sqs_messages_per_item(len(flagged))
    assert per_item == {i: 1 for i in flagged}, "one SNS message per flagged item"


@pytest.fixture
def deployment(pg_url, broker_url, moto_endpoint, rekognition, media_dir, tmp_path):
    prefix = f"faults-{uuid.uuid4().hex[:8]}:"
    sns = boto3.client("sns", endpoint_url=moto_endpoint, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")
    topic_arn = sns.create_topic(Name=f"modq-{prefix[:-1]}")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"modq-{prefix[:-1]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    # Not the session's worker_env: that would create the session alert topic early, and a later
    # test's moto.mock_aws() resets every moto backend in this process, topic and queue included.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODQ_")}
    env.update({
        "MODQ_DATABASE_URL": pg_url, "MODQ_BROKER_URL": broker_url, "MODQ_PROVIDER": "rekognition",
        "MODQ_MEDIA_ROOT": str(media_dir), "MODQ_MAX_ATTEMPTS": "3", "MODQ_RETRY_BACKOFF_MAX": "2",
        "MODQ_AWS_MAX_ATTEMPTS": "2", "MODQ_LOG_FORMAT": "json", "AWS_RETRY_MODE": "standard",
        "AWS_ENDPOINT_URL_REKOGNITION": rekognition.endpoint_url, "AWS_ENDPOINT_URL_SNS": moto_endpoint,
        "AWS_ENDPOINT_URL_SQS": moto_endpoint, "AWS_ENDPOINT_URL_S3": moto_endpoint})
    env.update({
        "MODQ_BROKER_KEY_PREFIX": prefix, "MODQ_SNS_TOPIC_ARN": topic_arn, "MODQ_OUTBOX_INTERVAL_SECONDS": "1",
        "MODQ_BROKER_VISIBILITY_TIMEOUT": "30", "MODQ_REAPER_STUCK_AFTER_SECONDS": "3600",
        # countdowns must stay below the short visibility timeouts some tests use
        "MODQ_VIDEO_POLL_INITIAL_SECONDS": "1", "MODQ_VIDEO_POLL_MAX_INTERVAL_SECONDS": "2"})
    settings = Settings(database_url=pg_url, broker_url=env["MODQ_BROKER_URL"], provider="rekognition",
                        sns_topic_arn=topic_arn, media_root=media_dir, broker_key_prefix=prefix)
    dispatcher = PrefixedDispatcher(env["MODQ_BROKER_URL"], prefix)
    rt = Runtime(settings, policy.load(settings.thresholds), dispatcher, build_publisher(settings))
    dep = Deployment(prefix, env, rt, dispatcher, AlertQueue(topic_arn, queue_url, sqs), rekognition, tmp_path)
    yield dep
    for proc in dep.processes:
        proc.kill()  # the test is over: no need to wait for a warm shutdown
        proc.log.close()
    dep.lose_broker_state()
    # The database is the session's: an alert this test left in the outbox (a deployment alert SNS
    # could not take) would otherwise be delivered by the next test's relay, to that test's queue.
    with db.transaction(pg_url) as s:
        s.execute(update(Alert).where(Alert.published_at.is_(None)).values(published_at=utcnow()))
    sqs.delete_queue(QueueUrl=queue_url)
    sns.delete_topic(TopicArn=topic_arn)
