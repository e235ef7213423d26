"""Submit-to-decision latency at a steady offered load (issue 15, target 5).

    .venv/bin/python bench/decision_latency.py                      # 20, 50 and 100 items/s, 30 s each
    .venv/bin/python bench/decision_latency.py --rates 50 --seconds 10 --no-record

How soon a decision follows an upload. A submitter in this process calls ``service.submit`` on a fixed
schedule (open loop: item i at start + i / rate, whatever the workers are doing, as uploads arrive) for
``--seconds``; a `modq` worker (prefork, concurrency 2, queues images and alerts) decides each against the fake
Rekognition server answering at once, on PostgreSQL and Redis. An item's latency runs from just before its
submit call to the ``decided_at`` its deciding transaction stamps (same machine, same clock). Figures: p50,
p90, p99 and max, and the decided rate: under the offered rate means the workers could not keep up and the
queue grew during the run (the latency then says how long the backlog was, not how fast a decision is).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common  # noqa: E402

VERDICT_LABELS = {"rejected": ["Explicit:99"], "flagged": ["Hate Symbols:70"], "approved": []}
SECTION = common.Section(
    key="decision_latency",
    title="## 6. Submit-to-decision latency at a steady load (issue 15, target 5)",
    intro="""
Command: `.venv/bin/python bench/decision_latency.py` (defaults: 20, 50 and 100 items/s offered for 30 s each, open
loop, `service.submit` in the benchmark's process; a `modq` worker, prefork c=2, on PostgreSQL and Redis;
fake Rekognition answering at once; every item rejected, so each also writes an outbox row and sends an alert
task). Latency: from just before the submit call to the decision's `decided_at`. A decided rate under the
offered one means the worker could not keep up: the queue grew, and the latency measures the backlog.
""",
    columns=["date (UTC)", "machine", "offered items/s", "decided items/s", "items", "p50 ms", "p90 ms", "p99 ms",
             "max ms", "kept up"],
    after="bulk_submit",
)


def run_rate(rt, service, rate: float, seconds: float, database_url: str, timeout: float) -> dict:
    """Submit at ``rate`` for ``seconds``, wait for every decision; latencies in seconds and the decided rate."""
    tag = uuid.uuid4().hex[:8]
    submitted: dict[str, float] = {}
    n = int(rate * seconds)
    start = time.time() + 0.2
    late = 0
    for i in range(n):
        due = start + i / rate
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        elif wait < -0.05:
            late += 1  # the submitter itself fell behind the schedule
        t = time.time()
        submitted[service.submit(f"s3://bench-media/{tag}/{i}.jpg", rt=rt).item_id] = t
    decided = wait_decided(database_url, list(submitted), timeout)
    latencies = sorted(decided[i] - submitted[i] for i in submitted)
    first, last = min(submitted.values()), max(decided.values())
    return {"n": n, "latencies": latencies, "decided_rate": n / (last - first), "late": late,
            "offered": n / (max(submitted.values()) - first)}


def wait_decided(database_url: str, ids: list[str], timeout: float) -> dict[str, float]:
    from sqlalchemy import select

    from moderation.infra.db import transaction
    from moderation.items import models as m

    deadline = time.monotonic() + timeout
    while True:
        with transaction(database_url) as s:
            rows = s.execute(select(m.Item.id, m.Item.decided_at).where(m.Item.id.in_(ids),
                                                                         m.Item.decided_at.is_not(None))).all()
        if len(rows) == len(ids):
            return {item_id: at.replace(tzinfo=at.tzinfo or timezone.utc).timestamp() for item_id, at in rows}
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(rows)}/{len(ids)} items decided after {timeout}s")
        time.sleep(0.5)


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", default="20,50,100", help="offered items/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=30.0, help="submitting time per rate")
    parser.add_argument("--pool", default="prefork")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--verdict", choices=sorted(VERDICT_LABELS), default="rejected")
    parser.add_argument("--loglevel", default="INFO")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)

    common.install_signal_cleanup()
    info = common.machine_info()
    common.print_header("Submit-to-decision latency", info)
    logs = Path(tempfile.mkdtemp(prefix="modq-latency-"))
    rows, details = [], [f"- Machine: {common.machine_line(info)}", f"- Versions: {common.versions_line(info)}",
                         f"- Worker: {args.pool} c={args.concurrency}, queues images,alerts, log level "
                         f"{args.loglevel}; verdict {args.verdict}; {args.seconds:.0f} s per rate."]
    machine = f"{info['cores']} cores, load {info['load'][0]:.2f}" + (" (loaded)" if common.loaded(info) else "")
    print(f"{'offered/s':>9} {'decided/s':>9} {'items':>6} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    with common.cleaned_up():
        with common.temp_database() as url:
            fake = common.FakeRekognitionProcess(logs, latency=0.0, labels=VERDICT_LABELS[args.verdict])
            env = common.base_env(url, MODQ_PROVIDER="rekognition", AWS_ENDPOINT_URL_REKOGNITION=fake.url,
                                  MODQ_LOG_LEVEL=args.loglevel, MODQ_REKOGNITION_TPS="10000")
            for key in ("MODQ_DATABASE_URL", "MODQ_BROKER_URL", "MODQ_PROVIDER", "MODQ_LOG_FORMAT",
                        "AWS_ENDPOINT_URL_REKOGNITION", "MODQ_REKOGNITION_TPS"):
                os.environ[key] = env[key]
            common.flush_broker()
            from moderation.bootstrap import get_runtime
            from moderation.infra import logs as modq_logs
            from moderation.items import services as service
            from worker.app import dispatcher

            modq_logs.configure("json", "WARNING")
            rt = get_runtime(dispatcher)
            worker = common.start_worker("worker", "images,alerts", args.pool, args.concurrency, env,
                                         logs / "worker.log", "modq", args.loglevel)
            try:
                run_rate(rt, service, 10, 3, url, 120)  # warm-up: pool processes, connections, the fake
                for rate in (float(r) for r in args.rates.split(",")):
                    r = run_rate(rt, service, rate, args.seconds, url, timeout=600)
                    lat = [1000 * x for x in r["latencies"]]
                    p50, p90, p99, top = pct(lat, 0.5), pct(lat, 0.9), pct(lat, 0.99), lat[-1]
                    kept = r["decided_rate"] >= 0.95 * r["offered"]
                    print(f"{r['offered']:9.1f} {r['decided_rate']:9.1f} {r['n']:6d} {p50:8.1f} {p90:8.1f} "
                          f"{p99:8.1f} {top:8.1f}" + ("" if kept else "  (did not keep up)"), flush=True)
                    rows.append([info["date"], machine, f"{rate:g}", f"{r['decided_rate']:.1f}", str(r["n"]),
                                 f"{p50:.0f}", f"{p90:.0f}", f"{p99:.0f}", f"{top:.0f}",
                                 "yes" if kept else "no: the queue grew"])
                    details.append(f"- {rate:g} items/s offered ({r['offered']:.1f} achieved by the submitter, "
                                   f"{r['late']} submits late): {r['n']} items, decided {r['decided_rate']:.1f}/s.")
            finally:
                worker.stop()
                if "Traceback" in worker.output():
                    print(f"!! the worker logged a traceback; see {worker.log_path}")
                fake.stop()
    return common.finish_run(SECTION, rows, details, logs, record_it=not args.no_record)


if __name__ == "__main__":
    sys.exit(main())
