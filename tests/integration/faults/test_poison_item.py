"""Guarantee 7: a poison item fails after its attempts, with its reason, and blocks nobody;
`modq items retry` re-drives it once the cause is fixed.

The poison image always gets a Rekognition InternalServerError. Its retries
wait in the broker with a countdown instead of holding a worker, so the other
items flow past it; the circuit breaker counts failures against all answers,
so one poison item does not pause the fleet.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import redis
from sqlalchemy import select

from moderation.infra import db
from moderation.items import models as m
from tests.conftest import REPO
from tests.integration.faults.conftest import APPROVE, BUCKET, FLAG

pytestmark = pytest.mark.integration
MODQ = str(Path(sys.executable).with_name("modq"))


@dataclass
class CircuitSeen:
    opened: bool = False  # the circuit's open (or tripped) key existed at some sample
    failures: int = 0  # the most server errors its window ever counted
    answers: int = 0  # the most good answers its window ever counted


@contextmanager
def watch_circuit(deployment) -> Iterator[CircuitSeen]:
    """Sample the Rekognition circuit's state in Redis (moderation/infra/circuit.py) every 20 ms.

    A "tripped" key lives until a probe closes the circuit (at least MODQ_CIRCUIT_OPEN_SECONDS),
    so an opening cannot fall between two samples. The counts prove the keys watched are the ones
    the workers write: a renamed key would read as "never opened" but also as "never counted".
    """
    client = redis.Redis.from_url(deployment.env["MODQ_BROKER_URL"])
    base = f"{deployment.prefix}modq:circuit:rekognition:"
    seen, stop = CircuitSeen(), threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            if client.exists(base + "open", base + "tripped"):
                seen.opened = True
            stats = client.hgetall(base + "stats")
            seen.failures = max(seen.failures, int(stats.get(b"fail", 0)))
            seen.answers = max(seen.answers, int(stats.get(b"ok", 0)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield seen
    finally:
        stop.set()
        sampler.join(5)
        client.close()


def test_poison_item_fails_with_its_reason_others_flow_past_and_retry_redrives_it(deployment):
    deployment.worker(concurrency=2)
    with watch_circuit(deployment) as circuit:
        poison = deployment.submit(error="InternalServerError")
        others = {deployment.submit(lab): lab for lab in [FLAG, APPROVE, FLAG, APPROVE, FLAG, APPROVE]}
        rows = deployment.wait_decided([poison, *others])
    assert rows[poison].status == "failed" and rows[poison].attempts == 3  # MODQ_MAX_ATTEMPTS
    assert rows[poison].failure_reason.startswith("gave up after 3 attempts: Rekognition still failing after "
                                                  "retries (DetectModerationLabels InternalServerError")
    assert all(rows[i].status == ("flagged" if lab else "approved") for i, lab in others.items())
    assert max(rows[i].decided_at for i in others) < rows[poison].decided_at, "nobody waited for the poison item"
    # The fleet never paused: the breaker counted the poison item's server errors, and its
    # answers for everyone else, and never opened.
    assert circuit.failures >= 1 and circuit.answers >= 1, circuit
    assert not circuit.opened, "one poison item opened the circuit for every worker"

    # The cause is fixed (here: the fake stops failing that object); an operator re-drives the item.
    deployment.rekognition.add_s3_object(BUCKET, deployment.keys[poison], labels=FLAG)
    cli = subprocess.run([MODQ, "items", "retry", poison, "--json"], cwd=REPO, env=deployment.env,
                         capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == {"queued": [poison], "unsent": [], "skipped": {}}

    row = deployment.wait_decided([poison])[poison]
    assert (row.status, row.failure_reason) == ("flagged", None)
    assert deployment.outcomes([poison]) == {poison: ("flagged", 1, 1)}
    with db.transaction(deployment.database_url) as s:
        trail = [(e.action, e.actor, e.from_status, e.to_status) for e in s.scalars(
            select(m.AuditEvent).where(m.AuditEvent.item_id == poison).order_by(m.AuditEvent.id))]
    assert ("fail", "system", "processing", "failed") in trail
    assert [(action, actor.startswith("cli:"), to) for action, actor, _, to in trail if action == "retry"] == [
        ("retry", True, "queued")]  # `modq items retry`, named as the operator who ran it
    assert trail[-1][:1] == ("decide",)

    again = subprocess.run([MODQ, "items", "retry", poison], cwd=REPO, env=deployment.env,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "only failed items can be retried" in again.stderr
