"""Where a modq worker's CPU goes per item: py-spy on a real worker, folded into stages.

    .venv/bin/python bench/profile_pipeline.py                     # prefork c=2, 2,000 items
    .venv/bin/python bench/profile_pipeline.py --pool threads --items 1000 --no-record

The queue is filled first (fake Rekognition answering at once, every item
rejected, as in benchmark 1), then the worker drains it while py-spy samples
every process of the worker, only when they hold the GIL (so the samples are
CPU, not waiting). Samples are folded into the stages of one item and scaled
by the worker's CPU seconds per item read from /proc. The bare Celery no-op
worker is measured the same way for comparison. Writes the folded stacks
(``--raw``) for flame graphs (speedscope.app opens them).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common  # noqa: E402

SECTION = common.Section(
    key="pipeline_profile",
    title="## 1b. Where the time goes (profile of benchmark 1's worker)",
    intro="""
Command: `.venv/bin/python bench/profile_pipeline.py` (py-spy 0.4, GIL-holding samples of every worker
process while it drains 2,000 queued items; the stages are folded from the stacks and scaled by the
worker's CPU per item from /proc). The table keeps one row per run; the latest breakdown is below it.
""",
    columns=["date (UTC)", "machine", "pool", "worker CPU ms/item (modq)", "bare Celery CPU ms/item",
             "Celery+kombu+events in modq", "database", "provider call", "other modq"],
    after="pipeline_overhead",
)

# (stage, frame name prefixes that put a sample in it), first match from the root wins,
# then refined by the sub-stages below.
STAGES = [
    ("item lease (Redis)", ("held ",)),
    ("start: lock item, charge attempt, mark processing, audit", ("start ", "begin ")),
    ("load media: S3 peek (botocore)", ("_load_image ",)),
    ("pay-once lookup", ("_known ",)),
    ("provider call", ("InstrumentedProvider.__getattr__.<locals>.call ",)),
    ("policy decision", ("decide ",)),
    ("record: usage, analysis, decision, audit, outbox", ("record ", "_record ")),
    ("fail item", ("fail_item ",)),
]
SUBSTAGES = {
    "provider call": [("rate limiter + circuit breaker (Redis)", ("ClientGuard.",)),
                      ("provider call: botocore + HTTP", ("",))],
    "record: usage, analysis, decision, audit, outbox": [
        ("alert publish after the commit (lock, publish, mark; or its task)", ("send_alerts ", "_send_alerts ")),
        ("record: usage, analysis, decision, audit, outbox", ("",))],
}
CELERY_SPLIT = [("Celery task events", ("EventDispatcher.",)),
                ("logging", ("Logger.", "StreamHandler.", "Handler.")),
                ("Celery + kombu: receive, execute, ack", ("",))]
DATABASE = ("sqlalchemy/", "psycopg/", "psycopg_binary/")


def fold(raw: Path, pids_parent: set[int]) -> tuple[collections.Counter, collections.Counter, int]:
    """Samples per stage, samples per library area, total samples."""
    stages: collections.Counter = collections.Counter()
    areas: collections.Counter = collections.Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        areas[_area(frames)] += n
        stages[_stage(frames, pids_parent)] += n
    return stages, areas, total


def _pid(frames: list[str]) -> int | None:
    """The sampled process: py-spy nests a child's stacks under its parent's ``process N`` frame."""
    pid = None
    for frame in frames[:3]:
        match = re.match(r"process (\d+)", frame)
        if match:
            pid = int(match.group(1))
    return pid


def _stage(frames: list[str], pids_parent: set[int]) -> str:
    if _pid(frames) in pids_parent:
        return "prefork parent: receive, dispatch, ack"
    names = [f.split(" (", 1)[0] + " " for f in frames]
    try:
        start = next(i for i, n in enumerate(names) if n.startswith(("process_image ", "moderate_image ")))
    except StopIteration:
        return _first(CELERY_SPLIT, names)
    below = names[start:]
    for stage, prefixes in STAGES:
        idx = next((i for i, n in enumerate(below) if n.startswith(prefixes)), None)
        if idx is not None:
            return _first(SUBSTAGES[stage], below[idx:]) if stage in SUBSTAGES else stage
    return "task body (other)"


def _first(options, names: list[str]) -> str:
    """The first option whose prefixes match a frame (an empty prefix matches anything)."""
    for label, prefixes in options:
        if any(n.startswith(prefixes) for n in names):
            return label
    return options[-1][0]


def _area(frames: list[str]) -> str:
    leaf = frames[-1]
    for area, needles in (("database client (SQLAlchemy, psycopg)", DATABASE),
                          ("AWS SDK (botocore, urllib3, http.client)", ("botocore/", "urllib3/", "http/client.py",
                                                                        "boto3/")),
                          ("Redis client", ("redis/",)),
                          ("Celery, kombu, billiard", ("celery/", "kombu/", "billiard/", "vine/", "amqp/")),
                          ("logging (structlog, logging, json)", ("structlog/", "logging/", "json/")),
                          ("modq code", ("/moderation/", "/worker/", "/config/")),
                          ("pydantic, typing, stdlib other", ("",))):
        if any(n in leaf for n in needles):
            return area
    return "other"


def profile_worker(app: str, queue: str, pool: str, concurrency: int, env: dict, logs: Path, fill, n: int,
                   raw: Path, rate: int) -> tuple[float, set[int]]:
    """Fill the queue, start the worker, sample it while it drains; return CPU s/item and the parent pid set."""
    client = common.redis_client()
    worker = common.start_worker(app, queue, pool, concurrency, env, logs / f"{raw.stem}.log", raw.stem)
    try:
        fill(200)  # warm-up: clients built, code paths compiled
        common.wait_drained(client, [queue], 300)
        # Hold the worker back while the queue fills: it consumes as the items arrive otherwise.
        os.kill(worker.pid, 19)  # SIGSTOP the parent: prefork children get nothing new to do
        try:
            fill(n)
        finally:
            os.kill(worker.pid, 18)  # SIGCONT
        pids = common.process_tree(worker.pid)
        spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw",
                                "-o", str(raw), "-r", str(rate), "--subprocesses", "--gil", "--nonblocking",
                                "-p", str(worker.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        cpu0 = common.cpu_seconds(pids)
        common.wait_drained(client, [queue], 600)
        cpu = common.cpu_seconds(common.process_tree(worker.pid)) - cpu0
        spy.send_signal(2)
        spy.wait(60)
        parent = {worker.pid} if pool == "prefork" else set()
        return cpu / n, parent
    finally:
        worker.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--pool", default="prefork")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--raw", type=Path, default=None, help="where to keep the folded stacks")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)

    common.install_signal_cleanup()
    info = common.machine_info(["py-spy"])
    common.print_header("Profile of benchmark 1's worker", info)
    logs = Path(tempfile.mkdtemp(prefix="modq-profile-"))
    raw_modq = args.raw or logs / "modq.txt"
    raw_bare = raw_modq.with_name(raw_modq.stem + "-bare.txt")
    with common.cleaned_up():
        with common.temp_database() as url:
            fake = common.FakeRekognitionProcess(logs, latency=0.0, labels=["Explicit:99"])
            try:
                env = common.base_env(url, MODQ_PROVIDER="rekognition", AWS_ENDPOINT_URL_REKOGNITION=fake.url,
                                      MODQ_REKOGNITION_TPS="10000")
                for key in ("MODQ_DATABASE_URL", "MODQ_BROKER_URL", "MODQ_PROVIDER", "AWS_ENDPOINT_URL_REKOGNITION",
                            "MODQ_REKOGNITION_TPS"):
                    os.environ[key] = env[key]
                common.flush_broker()
                from bench.bare_app import QUEUE, noop
                from config.settings import get_settings
                from moderation.infra import logs as modq_logs
                from moderation.domain import policy
                from moderation.items import services as service
                from moderation.bootstrap import Runtime, build_publisher
                from worker.app import dispatcher

                modq_logs.configure("json", "WARNING")
                settings = get_settings()
                rt = Runtime(settings, policy.load(settings.thresholds), dispatcher(),
                             build_publisher(settings))

                def fill_modq(n: int) -> None:
                    tag = uuid.uuid4().hex[:8]
                    for i in range(n):
                        service.submit(f"s3://bench-media/{tag}/{i}.jpg", rt=rt)

                def fill_bare(n: int) -> None:
                    for i in range(n):
                        noop.apply_async((i,), queue=QUEUE)

                modq_cpu, parent = profile_worker("worker", "images", args.pool, args.concurrency, env, logs,
                                                  fill_modq, args.items, raw_modq, args.rate)
                bare_cpu, bare_parent = profile_worker("bench.bare_app", QUEUE, args.pool, args.concurrency, env,
                                                       logs, fill_bare, args.items, raw_bare, args.rate)
            finally:
                common.stop_all()
                fake.stop()

    stages, areas, total = fold(raw_modq, parent)
    b_stages, b_areas, b_total = fold(raw_bare, bare_parent)
    print(f"worker CPU per item: modq {1000 * modq_cpu:.2f} ms, bare Celery no-op {1000 * bare_cpu:.2f} ms\n")
    lines = ["| stage | share of modq worker CPU | ms/item |", "|---|---|---|"]
    print(f"{'stage':50} {'share':>7} {'ms/item':>8}")
    for stage, n in stages.most_common():
        share = n / total
        print(f"{stage:50} {100 * share:6.1f}% {1000 * modq_cpu * share:8.2f}")
        lines.append(f"| {stage} | {100 * share:.1f}% | {1000 * modq_cpu * share:.2f} |")
    print()
    lines += ["", "| library (leaf frame) | modq share | modq ms/item | bare share | bare ms/item |",
              "|---|---|---|---|---|"]
    print(f"{'library (leaf frame)':45} {'modq':>7} {'ms':>6} {'bare':>7} {'ms':>6}")
    for area, n in areas.most_common():
        share, b_share = n / total, b_areas.get(area, 0) / max(1, b_total)
        print(f"{area:45} {100 * share:6.1f}% {1000 * modq_cpu * share:6.2f} {100 * b_share:6.1f}% "
              f"{1000 * bare_cpu * b_share:6.2f}")
        lines.append(f"| {area} | {100 * share:.1f}% | {1000 * modq_cpu * share:.2f} | {100 * b_share:.1f}% | "
                     f"{1000 * bare_cpu * b_share:.2f} |")
    print(f"\nfolded stacks: {raw_modq} (modq), {raw_bare} (bare); open in speedscope.app")

    def ms(*names: str) -> float:
        return 1000 * modq_cpu * sum(stages.get(n, 0) for n in names) / total

    celery = ms("prefork parent: receive, dispatch, ack", "Celery task events", "logging",
                "Celery + kombu: receive, execute, ack")
    database = ms("start: lock item, charge attempt, mark processing, audit", "pay-once lookup",
                  "record: usage, analysis, decision, audit, outbox")
    provider = ms("rate limiter + circuit breaker (Redis)", "provider call: botocore + HTTP")
    other = 1000 * modq_cpu - celery - database - provider
    if not args.no_record:
        machine = f"{info['cores']} cores, load {info['load'][0]:.2f}" + (" (loaded)" if common.loaded(info) else "")
        row = [info["date"], machine, f"{args.pool} c={args.concurrency}", f"{1000 * modq_cpu:.2f}",
               f"{1000 * bare_cpu:.2f}", f"{celery:.2f}", f"{database:.2f}", f"{provider:.2f}", f"{other:.2f}"]
        details = "\n".join([f"- Machine: {common.machine_line(info)}", f"- Versions: {common.versions_line(info)}",
                             f"- {args.items:,} items, {args.pool} c={args.concurrency}, py-spy {args.rate} Hz, "
                             f"{total:,} samples (modq), {b_total:,} (bare).", "", *lines])
        common.record(SECTION, row, details)
        print(f"recorded in {common.RESULTS.relative_to(common.REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
