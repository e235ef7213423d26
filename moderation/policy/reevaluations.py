"""Re-evaluation as a background job (``PUT /v1/policy?reevaluate=true``): start it, run it, read its state.

``start`` records a job (``policy_reevaluations``) and hands its id to a worker
through the dispatcher (task ``modq.reevaluate_policy``, queue ``maintenance``);
``run`` is what that task does: ``reevaluate`` under the job's policy version,
writing done/total and the counts so far after each batch. The job lives in
the database, so every API process can answer ``GET
/v1/policy/reevaluations/{id}`` and a worker restart loses nothing: the task
is acknowledged only when it ends (``acks_late``), is delivered again, and the
pass continues from the job's last finished batch (``Summary.after``).
``modq policy apply --reevaluate`` runs ``reevaluate`` in the foreground instead.

States: ``queued`` -> ``running`` -> ``done`` | ``failed`` (``errors`` says
why; applying the version again with ``?reevaluate=true`` starts a new job,
which re-decides only what is still flagged).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select

from moderation.domain import policy
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.infra.schema import new_id
from moderation.policy.models import PolicyVersion, Reevaluation
from moderation.policy.reevaluate import Summary, reevaluate

if TYPE_CHECKING:  # the type only: use cases are handed the runtime, never build it
    from moderation.bootstrap import Runtime

log = structlog.get_logger("modq.reevaluate")
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
COUNTS = ("examined", "unchanged", "approved", "rejected", "claimed", "alerts")


class NotQueued(Exception):
    """The job is recorded (and marked failed) but the broker did not take it."""


def start(rt: Runtime, version: str, actor: str, tenant_id: int | None = None) -> dict[str, Any]:
    """Record a re-evaluation under ``version`` (applied for ``tenant_id``; None: the deployment's) and send it
    to a worker; its ``status``. It walks the items that version decides (``reevaluate``).

    Raises ``NotQueued`` when the dispatcher cannot send it; the job is then ``failed``, saying so."""
    job_id = new_id()
    with transaction(rt.settings.database_url) as s:
        s.add(Reevaluation(id=job_id, version=version, tenant_id=tenant_id, actor=actor, state=QUEUED, counts={},
                           errors=[]))
    try:
        rt.dispatcher.reevaluate_policy(job_id)
    except Exception as exc:  # the broker is away: say so now rather than leave a job that never starts
        _end(rt.settings.database_url, job_id, FAILED, f"not queued: the broker did not take it ({exc})")
        raise NotQueued(f"the re-evaluation could not be queued ({exc}); policy version {version} is active: "
                        "apply it again with ?reevaluate=true once the broker is back") from exc
    return status(rt.settings.database_url, job_id)


def run(rt: Runtime, job_id: str, batch: int = 200) -> Summary | None:
    """Run (or, delivered again after a worker restart, continue) job ``job_id``; None if there is nothing to do."""
    url = rt.settings.database_url
    with transaction(url) as s:
        job = s.get(Reevaluation, job_id, with_for_update=True)
        if job is None or job.state in (DONE, FAILED):
            log.info("reevaluation_skipped", job_id=job_id, state=job.state if job else "unknown")
            return None
        now = utcnow()
        job.state, job.runs, job.updated_at = RUNNING, job.runs + 1, now
        job.started_at = job.started_at or now
        text = s.get(PolicyVersion, job.version).yaml_text
        summary = Summary(job.version, **{k: job.counts.get(k, 0) for k in COUNTS}, done=job.done, after=job.after)
        actor, runs, tenant_id = job.actor, job.runs, job.tenant_id
    log.info("reevaluation_started", job_id=job_id, version=summary.version, run=runs, resumed_at=summary.done)
    try:
        new = policy.parse(text, source=f"policy version {summary.version}")
        reevaluate(rt, new, actor, batch, summary=summary, tenant_id=tenant_id,
                   on_progress=lambda done, total: _progress(url, job_id, summary, total))
    except Exception as exc:
        _end(url, job_id, FAILED, f"{type(exc).__name__}: {exc}", summary)
        raise
    _end(url, job_id, DONE, None, summary)
    return summary


def resend_stale(rt: Runtime, now: datetime | None = None, limit: int = 100) -> list[str]:
    """Send again every job queued or running with no progress for MODQ_REAPER_STUCK_AFTER_SECONDS (its message
    was lost: Redis restarted without persistence, or the worker died with it past the visibility timeout); the
    ids sent. A job's ``updated_at`` moves with each batch, so a live job is never picked, and is bumped here, so a
    stale one is sent again at most once per deadline; ``run`` continues from its last finished batch."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=rt.settings.reaper_stuck_after_seconds)
    with transaction(rt.settings.database_url) as s:
        stale = s.scalars(select(Reevaluation).where(Reevaluation.state.in_((QUEUED, RUNNING)),
                                                     Reevaluation.updated_at < cutoff)
                          .order_by(Reevaluation.updated_at).limit(limit)).all()
        for job in stale:
            job.updated_at = now
        ids = [job.id for job in stale]
    sent = []
    for job_id in ids:
        try:
            rt.dispatcher.reevaluate_policy(job_id)
            sent.append(job_id)
        except Exception as exc:  # still lost: the next sweep after the deadline tries again
            log.error("reevaluation_resend_failed", job_id=job_id, error=str(exc))
    if sent:
        log.warning("reevaluations_resent", job_ids=sent)
    return sent


def status(database_url: str, job_id: str) -> dict[str, Any] | None:
    """The job as the API shows it; None if there is no such job."""
    with transaction(database_url) as s:
        job = s.get(Reevaluation, job_id)
        if job is None:
            return None
        return {"id": job.id, "version": job.version, "tenant_id": job.tenant_id, "actor": job.actor,
                "state": job.state, "done": job.done, "total": job.total,
                "counts": {k: job.counts.get(k, 0) for k in COUNTS}, "errors": list(job.errors), "runs": job.runs,
                "created_at": job.created_at, "started_at": job.started_at,
                "updated_at": job.updated_at, "finished_at": job.finished_at}


def _progress(url: str, job_id: str, summary: Summary, total: int) -> None:
    with transaction(url) as s:
        job = s.get(Reevaluation, job_id)
        job.done, job.total, job.after = summary.done, total, summary.after
        job.counts, job.updated_at = _counts(summary), utcnow()


def _end(url: str, job_id: str, state: str, error: str | None, summary: Summary | None = None) -> None:
    with transaction(url) as s:
        job = s.get(Reevaluation, job_id)
        job.state = state
        job.updated_at = job.finished_at = utcnow()
        if error:
            job.errors = [*job.errors, error]
        if summary is not None:
            job.done, job.after, job.counts = summary.done, summary.after, _counts(summary)
            job.total = summary.done if state == DONE else job.total
    log.info("reevaluation_ended", job_id=job_id, state=state, error=error)


def _counts(summary: Summary) -> dict[str, int]:
    return {k: getattr(summary, k) for k in COUNTS}
