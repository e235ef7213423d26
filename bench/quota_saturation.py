"""Benchmark 2 — quota saturation: keep Rekognition at its quota without tripping it.

    .venv/bin/python bench/quota_saturation.py                 # 1 worker × 20 threads, then 3 × 8
    .venv/bin/python bench/quota_saturation.py --items 600 --setups 1x20 --no-record

The fake Rekognition server (its own process) answers DetectModerationLabels
after 200 ms and enforces a quota of 50 accepted calls in any sliding second,
answering ProvisionedThroughputExceededException past it, as the real service
does. Workers (threads pool: the call is I/O) share modq's global rate limiter
(moderation/infra/ratelimit.py, a token bucket in Redis, MODQ_REKOGNITION_TPS) so
that one process or three, they ask for no more than the quota together.

Measured: accepted calls per second in the steady part of the run (the middle
90% of decisions, from their decided_at), as a share of the quota; items
failed; the share of calls the server throttled. Target: ≥ 95% of the quota,
0 failed, < 1% throttled, with one worker process and with three.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common  # noqa: E402
from bench.common import fmt  # noqa: E402

SECTION = common.Section(
    key="quota_saturation",
    title="## 2. Quota saturation (fake Rekognition: 200 ms, 50 calls/s enforced)",
    intro="""
Command: `.venv/bin/python bench/quota_saturation.py` (defaults: 2,000 items per setup, limiter
MODQ_REKOGNITION_TPS=48.5 = 97% of the quota, threads pool). "Steady" is the middle 90% of decisions.
Target: ≥ 95% of the quota (≥ 47.5 accepted calls/s), 0 items failed, < 1% of calls throttled, with 1 and
with 3 worker processes. The fake enforces a strict sliding second; the 3% headroom absorbs the jitter
between a token being granted and the request arriving.
""",
    columns=["date (UTC)", "machine", "workers", "limiter TPS", "items", "steady calls/s", "% of quota",
             "failed", "throttled", "target"],
)


def parse_setups(text: str) -> list[tuple[int, int]]:
    setups = []
    for part in text.split(","):
        workers, _, threads = part.strip().partition("x")
        setups.append((int(workers), int(threads or 16)))
    return setups


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=2000, help="items per setup")
    parser.add_argument("--setups", default="1x20,3x8", help="PROCESSESxTHREADS,...")
    parser.add_argument("--quota", type=float, default=50.0, help="calls/s the fake server accepts")
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--tps", type=float, default=48.5,
                        help="MODQ_REKOGNITION_TPS for the workers (0: limiter effectively off)")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)

    common.install_signal_cleanup()
    info = common.machine_info()
    common.print_header("Benchmark 2: quota saturation", info)
    logs = Path(tempfile.mkdtemp(prefix="modq-bench2-"))
    rows, details = [], [f"- Machine: {common.machine_line(info)}", f"- Versions: {common.versions_line(info)}"]
    with common.cleaned_up():
        for workers, threads in parse_setups(args.setups):
            result = run_setup(args, workers, threads, logs)
            ok = result["share"] >= 0.95 and result["failed"] == 0 and result["throttled_share"] < 0.01
            print(f"{workers} × {threads} threads: steady {fmt(result['steady'])} calls/s = "
                  f"{100 * result['share']:.1f}% of {args.quota:g}/s; overall {fmt(result['overall'])}/s; "
                  f"failed {result['failed']}; throttled {result['throttled']}/{result['calls']} = "
                  f"{100 * result['throttled_share']:.2f}%; retried items {result['retried']} -> "
                  f"{'target met' if ok else 'target NOT met'}", flush=True)
            machine = f"{info['cores']} cores, load {info['load'][0]:.2f}"
            machine += " (loaded)" if common.loaded(info) else ""
            rows.append([info["date"], machine, f"{workers} × {threads} threads",
                         f"{args.tps:g}" if args.tps else "off", f"{args.items:,}", fmt(result["steady"]),
                         f"{100 * result['share']:.1f}%", str(result["failed"]),
                         f"{100 * result['throttled_share']:.2f}% ({result['throttled']}/{result['calls']})",
                         "met" if ok else "NOT met"])
            details.append(f"- {workers} × {threads}: overall {fmt(result['overall'])} items/s over "
                           f"{fmt(result['span'])} s; fake server max concurrent requests "
                           f"{result['max_concurrent']}; items needing a task retry {result['retried']}.")
    if not args.no_record:
        common.record_rows(SECTION, rows, details)
    print(f"logs: {logs}")
    return 0


def run_setup(args, workers: int, threads: int, logs: Path) -> dict:
    with common.temp_database() as url:
        fake = common.FakeRekognitionProcess(logs, latency=args.latency, quota_tps=args.quota, labels=[])
        procs = []
        try:
            env = common.base_env(url, MODQ_PROVIDER="rekognition", AWS_ENDPOINT_URL_REKOGNITION=fake.url,
                                  MODQ_REKOGNITION_TPS=str(args.tps or 10000), MODQ_WORKER_POOL="threads",
                                  MODQ_WORKER_CONCURRENCY=str(threads), MODQ_LOG_LEVEL="INFO")
            for key in ("MODQ_DATABASE_URL", "MODQ_BROKER_URL", "MODQ_PROVIDER"):
                os.environ[key] = env[key]
            common.flush_broker()
            from config.settings import get_settings

            get_settings.cache_clear()
            from moderation.infra import logs as modq_logs
            from moderation.domain import policy
            from moderation.items import services as service
            from moderation.bootstrap import InMemoryDispatcher, Runtime, build_publisher
            from worker.tasks import moderate_image

            modq_logs.configure("json", "WARNING")
            settings = get_settings()
            rt = Runtime(settings, policy.load(settings.thresholds), InMemoryDispatcher(), build_publisher(settings))
            for i in range(workers):
                procs.append(common.start_worker("worker", "images", "threads", threads, env,
                                                 logs / f"w{workers}x{threads}-{i}.log", f"quota{i}"))
            tag = uuid.uuid4().hex[:8]
            ids = [service.submit(f"s3://bench-media/{tag}/{i}.jpg", rt=rt).item_id for i in range(args.items)]
            for item_id in ids:  # rows first, then the tasks: the queue fills faster than 50/s drains it
                moderate_image.apply_async((item_id,), queue="images")
            common.wait_drained(common.redis_client(), ["images"], timeout=args.items / args.quota * 4 + 120)
            result = measure(settings.database_url, ids)
        finally:
            for proc in procs:
                proc.stop()
            summary = fake.stop()
        calls = int(summary.get("calls", {}).get("DetectModerationLabels", 0))
        throttled = int(summary.get("throttled", 0))
        result.update(calls=calls, throttled=throttled, throttled_share=throttled / max(1, calls),
                      share=result["steady"] / args.quota, max_concurrent=summary.get("max_concurrent_requests"))
        for proc in procs:
            if "Traceback" in proc.output():
                print(f"!! {proc.name} logged a traceback; see {proc.log_path}")
        return result


def measure(database_url: str, ids: list[str]) -> dict:
    from sqlalchemy import select

    from moderation.items import models as m
    from moderation.infra.db import transaction

    with transaction(database_url) as s:
        rows = s.execute(select(m.Item.status, m.Item.decided_at, m.Item.attempts).where(m.Item.id.in_(ids))).all()
    failed = sum(1 for r in rows if r.status not in m.DECIDED)
    times = sorted(r.decided_at.timestamp() for r in rows if r.decided_at is not None)
    n = len(times)
    lo, hi = int(n * 0.05), int(n * 0.95) - 1
    steady = (hi - lo) / (times[hi] - times[lo]) if n > 20 and times[hi] > times[lo] else float("nan")
    span = times[-1] - times[0] if n > 1 else float("nan")
    return {"steady": steady, "overall": n / span if span else float("nan"), "span": span, "failed": failed,
            "retried": sum(1 for r in rows if (r.attempts or 0) > 1)}


if __name__ == "__main__":
    sys.exit(main())
