"""Benchmark 1 — pipeline overhead: modq against a bare Celery no-op task, same run.

    .venv/bin/python bench/pipeline_overhead.py            # prefork c=2 and threads c=2, 3 repeats
    .venv/bin/python bench/pipeline_overhead.py --items 500 --repeats 1 --no-record   # a quick look

Both sides go the whole way from a submitting process to a finished task on
the same Redis broker, Celery configuration (bench/bare_app.py reuses modq's
app), pool and machine, alternating run by run:

- bare: ``noop.apply_async()`` → Redis → worker → a task that returns None.
- modq: ``service.submit()`` (item row committed, task sent) → Redis → worker →
  ``process_image``: item row locked and moved to processing, DetectModerationLabels
  against the fake Rekognition server answering at once (its own process), policy,
  analysis + decision + audit + outbox rows in one transaction, alert task sent.

Rate = items / (first submit → queue empty and nothing unacked). The submitter
is one process, sending as fast as it can while the worker consumes. CPU
seconds per item are read from /proc for the submitter, the worker (all its
processes), the fake server and the PostgreSQL backends serving the bench
database, which is where the time goes on a 2-core machine. Target: modq ≥ 0.5
× bare with the prefork pool at concurrency 2, and with the threads pool.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common  # noqa: E402
from bench.common import fmt  # noqa: E402

SECTION = common.Section(
    key="pipeline_overhead",
    title="## 1. Pipeline overhead (modq vs a bare Celery no-op)",
    intro="""
Command: `.venv/bin/python bench/pipeline_overhead.py` (defaults: 600 items × 3 repeats per side and
pool, fake Rekognition answering at once, every item rejected so every item writes an outbox row).
Rates are items/s from the first submit to the last task acked, submitter and worker running together;
median of the repeats. Target: modq ≥ 0.5 × bare Celery, prefork c=2 and threads c=2.
CPU ms/item: submitter / worker / fake Rekognition / PostgreSQL backends.
""",
    columns=["date (UTC)", "machine", "pool", "items × repeats", "bare items/s", "modq items/s", "ratio",
             "target ≥ 0.5", "modq CPU ms/item", "bare CPU ms/item"],
)
VERDICT_LABELS = {"rejected": ["Explicit:99"], "flagged": ["Hate Symbols:70"], "approved": []}


@dataclass
class Run:
    side: str
    items: int
    submit_s: float
    total_s: float
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.items / self.total_s

    @property
    def submit_rate(self) -> float:
        return self.items / self.submit_s

    def cpu_ms(self) -> dict[str, float]:
        return {k: 1000 * v / self.items for k, v in self.cpu.items()}


def parse_configs(text: str) -> list[tuple[str, int]]:
    configs = []
    for part in text.split(","):
        pool, _, conc = part.strip().partition(":")
        configs.append((pool, int(conc or 2)))
    return configs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=600, help="items per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--configs", default="prefork:2,threads:2", help="pool:concurrency,...")
    parser.add_argument("--verdict", choices=sorted(VERDICT_LABELS), default="rejected",
                        help="what every item ends as (rejected/flagged also write an outbox row)")
    parser.add_argument("--loglevel", default="INFO", help="worker log level, both sides")
    parser.add_argument("--no-record", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args(argv)

    common.install_signal_cleanup()
    info = common.machine_info()
    common.print_header("Benchmark 1: pipeline overhead", info)
    logs = Path(tempfile.mkdtemp(prefix="modq-bench1-"))
    results: dict[tuple[str, int], dict[str, list[Run]]] = {}
    with common.cleaned_up():
        with common.temp_database() as url:
            fake = common.FakeRekognitionProcess(logs, latency=0.0, labels=VERDICT_LABELS[args.verdict])
            try:
                results = run_all(args, url, fake, logs)
            finally:
                common.stop_all()
                summary = fake.stop()
                print(f"fake Rekognition: {summary}")
    rows = report(args, info, results)
    if not args.no_record:
        record(args, info, results, rows)
        print(f"\nrecorded in {common.RESULTS.relative_to(common.REPO)}")
    print(f"worker logs: {logs}")
    return 0


def run_all(args, url: str, fake, logs: Path) -> dict:
    # The global rate limiter stays on (its Redis call per request is part of the cost) but never binds:
    # this benchmark measures overhead, benchmark 2 measures the quota.
    env = common.base_env(url, MODQ_PROVIDER="rekognition", AWS_ENDPOINT_URL_REKOGNITION=fake.url,
                          MODQ_LOG_LEVEL=args.loglevel, MODQ_REKOGNITION_TPS="10000")
    # The submitting side runs in this process: same settings as the workers.
    rt = common.submitter_runtime(env, ("MODQ_DATABASE_URL", "MODQ_BROKER_URL", "MODQ_PROVIDER", "MODQ_LOG_LEVEL",
                                        "MODQ_LOG_FORMAT", "AWS_ENDPOINT_URL_REKOGNITION", "MODQ_REKOGNITION_TPS"))
    from bench.bare_app import QUEUE, noop
    from moderation.items import services as service
    database = url.rsplit("/", 1)[1]
    client = common.redis_client()
    results = {}

    for pool, concurrency in parse_configs(args.configs):
        print(f"-- pool {pool} c={concurrency}", flush=True)
        bare = common.start_worker("bench.bare_app", QUEUE, pool, concurrency, env,
                                   logs / f"bare-{pool}.log", "bare", args.loglevel)
        modq = common.start_worker("worker", "images", pool, concurrency, env,
                                   logs / f"modq-{pool}.log", "modq", args.loglevel)

        def meter(worker):
            return common.CpuMeter({"submitter": "self", "worker": lambda: common.process_tree(worker.pid),
                                    "fake": lambda: [fake.pid],
                                    "postgres": lambda: common.postgres_backends(database)})

        def run_bare(n: int) -> Run:
            cpu = meter(bare)
            cpu.start()
            t0 = time.perf_counter()
            for i in range(n):
                noop.apply_async((i,), queue=QUEUE)
            t1 = time.perf_counter()
            end = common.wait_drained(client, [QUEUE], timeout=300)
            return Run("bare", n, t1 - t0, end - t0, cpu.stop())

        def run_modq(n: int) -> Run:
            tag = uuid.uuid4().hex[:8]
            cpu = meter(modq)
            cpu.start()
            t0 = time.perf_counter()
            for i in range(n):
                service.submit(f"s3://bench-media/{tag}/{i}.jpg", rt=rt)
            t1 = time.perf_counter()
            end = common.wait_drained(client, ["images"], timeout=600)
            run = Run("modq", n, t1 - t0, end - t0, cpu.stop())
            check_decided(rt.settings.database_url, tag, n, args.verdict)
            return run

        run_bare(args.warmup)
        run_modq(args.warmup)
        runs: dict[str, list[Run]] = {"bare": [], "modq": []}
        for r in range(args.repeats):
            for side, fn in (("bare", run_bare), ("modq", run_modq)):
                run = fn(args.items)
                runs[side].append(run)
                cpu = " ".join(f"{k}={v:.2f}" for k, v in run.cpu_ms().items())
                print(f"   {side:4} run {r + 1}: {fmt(run.rate)} items/s (submit {fmt(run.submit_rate)}/s), "
                      f"CPU ms/item {cpu}", flush=True)
        results[(pool, concurrency)] = runs
        for worker in (bare, modq):
            worker.stop()
            if "Traceback" in worker.output():
                print(f"!! {worker.name} logged a traceback; see {worker.log_path}")
    return results


def check_decided(database_url: str, tag: str, n: int, verdict: str) -> None:
    """Every item of the run decided as expected, with its outbox row when there should be one."""
    from sqlalchemy import func, select

    from moderation.alerts.models import Alert
    from moderation.items import models as m
    from moderation.infra.db import transaction

    with transaction(database_url) as s:
        like = m.Item.media_uri.like(f"s3://bench-media/{tag}/%")
        decided = s.scalar(select(func.count()).select_from(m.Item).where(like, m.Item.status == verdict))
        outbox = s.scalar(select(func.count()).select_from(Alert).join(m.Item, Alert.item_id == m.Item.id)
                          .where(like))
    expected_outbox = n if verdict in ("flagged", "rejected") else 0
    if decided != n or outbox != expected_outbox:
        raise AssertionError(f"run {tag}: {decided}/{n} items {verdict}, {outbox}/{expected_outbox} outbox rows")


def summarize(runs: list[Run]) -> dict[str, float]:
    out = {"rate": common.median([r.rate for r in runs]), "submit": common.median([r.submit_rate for r in runs])}
    for key in runs[0].cpu:
        out[f"cpu_{key}"] = common.median([r.cpu_ms()[key] for r in runs])
    return out


def cpu_text(s: dict[str, float]) -> str:
    return " / ".join(f"{s.get(f'cpu_{k}', 0):.2f}" for k in ("submitter", "worker", "fake", "postgres"))


def report(args, info, results) -> list[list[str]]:
    print("\npool        bare items/s  modq items/s  ratio   modq submit/s  CPU ms/item modq (submitter/worker/fake/pg)"
          "  bare")
    rows = []
    for (pool, conc), runs in results.items():
        bare, modq = summarize(runs["bare"]), summarize(runs["modq"])
        ratio = modq["rate"] / bare["rate"]
        print(f"{pool:>7} c={conc}  {fmt(bare['rate']):>12}  {fmt(modq['rate']):>12}  {ratio:5.2f}  "
              f"{fmt(modq['submit']):>13}  {cpu_text(modq):>34}  {cpu_text(bare)}")
        rows.append([info["date"], _machine_cell(info), f"{pool} c={conc}", f"{args.items:,} × {args.repeats}",
                     fmt(bare["rate"]), fmt(modq["rate"]), f"{ratio:.2f}", "met" if ratio >= 0.5 else "NOT met",
                     cpu_text(modq), cpu_text(bare)])
    return rows


def _machine_cell(info) -> str:
    load = f"load {info['load'][0]:.2f}"
    return f"{info['cores']} cores, {load}" + (" (loaded)" if common.loaded(info) else "")


def record(args, info, results, rows) -> None:
    details = [f"- Machine: {common.machine_line(info)}", f"- Versions: {common.versions_line(info)}",
               f"- Items: {args.items:,} per run × {args.repeats} repeats per side, after {args.warmup} warm-up; "
               f"verdict {args.verdict}; worker log level {args.loglevel}."]
    for (pool, conc), runs in results.items():
        for side in ("bare", "modq"):
            rates = ", ".join(fmt(r.rate) for r in runs[side])
            details.append(f"- {pool} c={conc} {side}: runs {rates} items/s; submit "
                           f"{fmt(summarize(runs[side])['submit'])}/s")
    for row in rows:
        common.record(SECTION, row, "\n".join(details))


if __name__ == "__main__":
    sys.exit(main())
