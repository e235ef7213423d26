"""Re-evaluation as a background job (moderation.policy.reevaluations): recorded, sent, run, continued
after a worker restart, failed with a reason; the API's side is in tests/unit/api/test_policy_api.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from moderation.bootstrap import set_runtime
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.ops import reaper
from moderation.policy.models import Reevaluation
from moderation.policy import reevaluations, versions as policy_store
from tests.unit.policy.test_reevaluate import STRICT, items, snapshot  # noqa: F401 (fixture)
from worker import dispatch, tasks
from worker.app import app

RESULT = {"examined": 4, "unchanged": 1, "approved": 1, "rejected": 1, "claimed": 1, "alerts": 1}


@pytest.fixture
def version(rt) -> str:
    return policy_store.apply(rt.settings.database_url, STRICT, author="ann").version


def test_start_records_a_queued_job_and_sends_its_id(rt, version):
    job = reevaluations.start(rt, version, "ann")
    assert rt.dispatcher.jobs == [job["id"]]
    assert {k: job[k] for k in ("version", "actor", "state", "done", "total", "errors", "runs")} == {
        "version": version, "actor": "ann", "state": "queued", "done": 0, "total": None, "errors": [], "runs": 0}
    assert reevaluations.status(rt.settings.database_url, job["id"]) == job


def test_run_redecides_and_records_the_outcome(rt, items, version):
    job_id = reevaluations.start(rt, version, "ann")["id"]
    assert reevaluations.run(rt, job_id, batch=2).to_dict() == {"version": version, **RESULT}
    job = reevaluations.status(rt.settings.database_url, job_id)
    assert (job["state"], job["done"], job["total"], job["counts"], job["runs"]) == ("done", 4, 4, RESULT, 1)
    assert job["started_at"] <= job["finished_at"]
    before = snapshot(rt)
    assert reevaluations.run(rt, job_id) is None  # a duplicate delivery of a finished job does nothing
    assert snapshot(rt) == before and reevaluations.status(rt.settings.database_url, job_id) == job


class WorkerKilled(BaseException):
    """Not an Exception: like a SIGKILL, nothing in the job gets to mark it failed."""


def test_a_job_continues_after_a_worker_restart(rt, items, version, monkeypatch):
    job_id = reevaluations.start(rt, version, "ann")["id"]
    write = reevaluations._progress

    def killed_after_first_batch(url, job_id, summary, total):
        write(url, job_id, summary, total)
        if summary.done:
            raise WorkerKilled

    monkeypatch.setattr(reevaluations, "_progress", killed_after_first_batch)
    with pytest.raises(WorkerKilled):
        reevaluations.run(rt, job_id, batch=2)
    stopped = reevaluations.status(rt.settings.database_url, job_id)
    assert (stopped["state"], stopped["done"], stopped["total"], stopped["runs"]) == ("running", 2, 4, 1)
    monkeypatch.setattr(reevaluations, "_progress", write)
    reevaluations.run(rt, job_id, batch=2)  # the task, delivered again (acks_late)
    job = reevaluations.status(rt.settings.database_url, job_id)
    assert (job["state"], job["done"], job["total"], job["counts"], job["runs"]) == ("done", 4, 4, RESULT, 2)


def test_an_error_fails_the_job_and_says_why(rt, items, version, monkeypatch):
    job_id = reevaluations.start(rt, version, "ann")["id"]

    def broken(*_args, **_kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(reevaluations, "reevaluate", broken)
    with pytest.raises(RuntimeError):
        reevaluations.run(rt, job_id)
    job = reevaluations.status(rt.settings.database_url, job_id)
    assert (job["state"], job["errors"]) == ("failed", ["RuntimeError: database went away"]) and job["finished_at"]
    assert reevaluations.run(rt, job_id) is None  # a failed job is not run again: apply again for a new one


class BrokerDown:
    def reevaluate_policy(self, job_id: str) -> None:
        raise ConnectionError("connection refused")


def test_a_job_the_broker_does_not_take_is_failed_not_left_queued(rt, version):
    rt.dispatcher = BrokerDown()
    with pytest.raises(reevaluations.NotQueued, match="could not be queued"):
        reevaluations.start(rt, version, "ann")
    # The job, recorded before the send, says what happened.
    with transaction(rt.settings.database_url) as s:
        (job_id,) = s.scalars(select(Reevaluation.id))
    job = reevaluations.status(rt.settings.database_url, job_id)
    assert job["state"] == "failed" and job["errors"] == [
        "not queued: the broker did not take it (connection refused)"]


def test_unknown_job_has_no_status(rt):
    assert reevaluations.status(rt.settings.database_url, "no-such-job") is None


def test_the_task_runs_on_the_maintenance_queue_and_is_sent_by_name(rt, items, version):
    assert app.conf.task_routes["modq.reevaluate_policy"]["queue"] == "maintenance"
    assert tasks.reevaluate_policy.acks_late
    sent = []
    dispatch.CeleryDispatcher(type("App", (), {"send_task": lambda _s, *a, **k: sent.append(a)})()) \
        .reevaluate_policy("job-1")
    assert sent == [("modq.reevaluate_policy", ("job-1",))]
    job_id = reevaluations.start(rt, version, "ann")["id"]
    set_runtime(rt)
    try:
        assert tasks.reevaluate_policy(job_id) == {"version": version, **RESULT}  # id in, the use case run
    finally:
        set_runtime(None)
    assert reevaluations.status(rt.settings.database_url, job_id)["state"] == "done"


def test_a_job_whose_message_was_lost_is_sent_again_once_per_deadline(rt, items, version):
    lost = reevaluations.start(rt, version, "ann")["id"]
    done = reevaluations.start(rt, version, "ann")["id"]
    reevaluations.run(rt, done)
    rt.dispatcher.jobs.clear()
    deadline = timedelta(seconds=rt.settings.reaper_stuck_after_seconds)
    now = utcnow()

    assert reevaluations.resend_stale(rt, now) == []  # not idle long enough yet
    later = now + deadline + timedelta(seconds=1)
    assert reevaluations.resend_stale(rt, later) == [lost] == rt.dispatcher.jobs  # the finished job is left alone
    assert reevaluations.resend_stale(rt, later + timedelta(seconds=1)) == []  # once per deadline
    assert reevaluations.run(rt, lost).to_dict()["examined"] > 0  # the re-sent message does the work


def test_the_reaper_sweep_resends_lost_jobs_too(rt, version):
    lost = reevaluations.start(rt, version, "ann")["id"]
    rt.dispatcher.jobs.clear()
    with transaction(rt.settings.database_url) as s:
        s.get(Reevaluation, lost).updated_at = utcnow() - timedelta(days=1)
    assert reaper.sweep(rt) == 1 and rt.dispatcher.jobs == [lost]
