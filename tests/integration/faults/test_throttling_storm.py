"""Guarantee 5: a Rekognition throttling storm decides every item and fails none.

- Throttling is a deferral (errors.Throttled): the task re-sends itself
  without spending MODQ_MAX_ATTEMPTS, so items outlast any storm.
- The global rate limiter (a Redis token bucket per operation, shared by
  every worker process) keeps calls under the account quota: two workers at
  MODQ_REKOGNITION_TPS=6 never trip the fake's 10-per-second quota, and
  without the limiter the same load does.
- The circuit breaker opens after sustained server errors: calls pause (no
  request reaches Rekognition, no attempt is spent) until a probe succeeds.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from moderation.infra import db
from moderation.items import models as m
from tests.integration.conftest import wait_for
from tests.integration.faults.conftest import APPROVE, FLAG, assert_decided_once

pytestmark = pytest.mark.integration


def test_throttling_storm_decides_every_item_and_fails_none(deployment):
    deployment.rekognition.seed = 7
    deployment.rekognition.throttle_ratio = 1.0  # total storm first
    deployment.worker(concurrency=4, MODQ_MAX_ATTEMPTS="2")
    items = {deployment.submit(lab): lab for lab in [FLAG, APPROVE, FLAG, APPROVE, FLAG, FLAG]}

    def attempts() -> list[int]:
        with db.transaction(deployment.database_url) as s:
            return list(s.scalars(select(m.Item.attempts).where(m.Item.id.in_(list(items)))))

    def deferrals() -> Counter:
        return Counter(event["item_id"] for event in deployment.log_events("deferred"))

    # Every item is throttled through more deliveries than MODQ_MAX_ATTEMPTS=2 allows, yet none fails,
    # and none has used more than the attempt of a delivery in flight: a deferral gives its attempt back.
    wait_for(lambda: all(deferrals()[i] > 2 for i in items), 40,
             message="every item to be throttled past its attempt budget")
    assert all(status == "processing" for status, _, _ in deployment.outcomes(list(items)).values())
    assert max(attempts()) <= 1
    deployment.rekognition.throttle_ratio = 0.6  # the storm goes on, less violently
    assert_decided_once(deployment, items)
    assert deployment.rekognition.throttled > 2 * 2 * len(items)
    assert attempts() == [1] * len(items)  # only the deciding delivery counted


def test_global_rate_limit_keeps_all_workers_under_the_account_quota(deployment):
    deployment.rekognition.quota_tps = 10  # the fake answers ProvisionedThroughputExceeded past 10 calls a second
    # A little under the quota: a token granted on time can still reach AWS late (a busy host), and
    # AWS counts arrivals. Here a call would have to arrive 0.6 s late to break the quota.
    limit = {"MODQ_REKOGNITION_TPS": "6", "MODQ_REKOGNITION_BURST": "1"}
    deployment.worker(concurrency=4, **limit)
    deployment.worker(pool="prefork", concurrency=2, **limit)  # another "host": separate processes, same bucket
    items = {deployment.submit(FLAG if n % 2 else APPROVE): FLAG if n % 2 else APPROVE for n in range(18)}
    assert_decided_once(deployment, items)
    assert deployment.rekognition.errors["ProvisionedThroughputExceededException"] == 0
    assert deployment.rekognition.accepted_calls["DetectModerationLabels"] == len(items)


def test_without_the_limiter_the_same_load_exceeds_the_quota(deployment):
    """The control for the test above: with the bucket far above the quota, the fake refuses calls."""
    deployment.rekognition.quota_tps = 10
    deployment.worker(concurrency=8, MODQ_REKOGNITION_TPS="1000", MODQ_REKOGNITION_BURST="1000")
    items = {deployment.submit(APPROVE): APPROVE for _ in range(18)}
    assert_decided_once(deployment, items)  # still decided: quota refusals are throttling, a deferral
    assert deployment.rekognition.errors["ProvisionedThroughputExceededException"] > 0


def test_circuit_opens_on_sustained_server_errors_pauses_calls_and_closes_on_recovery(deployment):
    deployment.rekognition.server_error_ratio = 1.0  # Rekognition is down
    circuit = {"MODQ_CIRCUIT_FAILURES": "3", "MODQ_CIRCUIT_OPEN_SECONDS": "1.5", "MODQ_MAX_ATTEMPTS": "4"}
    worker = deployment.worker(concurrency=4, **circuit)
    items = {deployment.submit(lab): lab for lab in [FLAG, APPROVE, FLAG, APPROVE, FLAG, APPROVE, FLAG, APPROVE]}

    def opened(n: int) -> int:
        wait_for(lambda: len(deployment.log_events("circuit_opened")) >= n, 30, message=f"the circuit to open {n}x")
        return deployment.rekognition.server_errors

    opened(1)
    after_second = opened(2)  # the first probe failed: open again
    after_third = opened(3)
    # Paused: a whole cool-down let through one call, the probe (retried once by botocore), where
    # 8 items would otherwise each retry every couple of seconds and fail after 4 attempts.
    assert after_third - after_second <= 2, (after_second, after_third)
    assert all(status == "processing" for status, _, _ in deployment.outcomes(list(items)).values())
    assert any(e["reason"].startswith("rekognition circuit is open") for e in deployment.log_events("deferred"))

    deployment.rekognition.server_error_ratio = 0.0
    assert_decided_once(deployment, items)
    assert deployment.log_events("circuit_closed")
    assert "circuit_opened" in worker.output()
