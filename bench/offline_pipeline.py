"""Benchmark 5 — offline end to end: modq's whole pipeline with the NudeNet model against the model alone.

    MODQ_BENCH_REDIS_DB=9 .venv/bin/python bench/offline_pipeline.py
    .venv/bin/python bench/offline_pipeline.py --photos 200 --repeats 1 --no-record     # a quick look

The same distinct real photos (bench/photos.py: crops, zooms and mirror images
of samples/, JPEG q90, at 640x480 and at 1920x1080, written to a temporary
media root) go through both sides, alternating run by run, per size:

- model alone: ``nudenet.NudeDetector().detect(file bytes)``, NudeNet's own cv2
  pre- and post-processing and its ONNX session of the bundled 320n model, re-made
  with one onnxruntime thread (and ``cv2.setNumThreads(1)``), in P processes
  (spawned, warmed up) that take the next photo until none is left.
- modq: ``service.submit`` of every photo while the worker is held (SIGSTOP),
  then released: Redis -> Celery worker (prefork, concurrency P,
  MODQ_PROVIDER=local, MODQ_LOCAL_THREADS=1) -> validated decode -> the same model ->
  policy -> decision row. Timed from the release to the queue drained and every
  message acked (a message is acked after its decision is committed).

Rates are photos/s, median of the repeats; target: modq >= 0.8 x the model alone.
Every item must end decided (none failed), and its stored labels are compared
with NudeNet's own detections of the same photo mapped the way modq maps them.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common, photos  # noqa: E402
from bench.offline_profile import fold, profile_table, profiled  # noqa: E402

SECTION = common.Section(
    key="offline_pipeline",
    title="## 5. Offline end to end (submit -> Redis -> worker with NudeNet -> decision, vs the model alone)",
    intro="""
Command: `.venv/bin/python bench/offline_pipeline.py` (defaults: 240 distinct photos per size derived from
samples/ by bench/photos.py, 640x480 and 1920x1080, 3 repeats per side alternating; 2 processes x 1
onnxruntime thread on both sides: prefork c=2 with MODQ_LOCAL_THREADS=1, and NudeDetector with a 1-thread
session and cv2.setNumThreads(1)). modq: items pre-queued with the worker held, timed from its release to
the last decision acked. Rates are photos/s, median of the repeats.
Target: modq >= 0.8 x the model alone. CPU ms/photo: model processes; modq worker (its prefork parent) /
PostgreSQL backends. "before" rows ran the resize of 4c43e47 (as before issue 15), "after" rows 3af233f +
44cd4fb. Caveats: the 05:51 and 06:00 rows scanned /proc and connected to PostgreSQL 4 times a second during
modq's runs, which cost modq ~5% of the machine; at 06:05 main moved under the running benchmark (hot-path
merged, 06:06), and the 06:11 run shared the cores with other jobs (each side kept only ~1.3 busy). The
06:18 / 06:21 pair is the clean before / after on the same code.
""",
    columns=["date (UTC)", "machine", "code", "photos", "model alone photos/s", "modq photos/s", "ratio",
             "target ≥ 0.8", "CPU ms/photo: model / modq worker (prefork parent) / PostgreSQL", "labels as NudeNet's"],
    after="ingest_api",
)
SIZES = {"640x480": (640, 480), "1920x1080": (1920, 1080)}
WARMUP = 8


# --- the model alone ------------------------------------------------------------


def nudenet_detector():
    """NudeNet as shipped, its session re-made with one onnxruntime thread (as modq's), cv2 on one thread."""
    import cv2  # noqa: F401 -- nudenet's own dependency
    import onnxruntime as ort
    from nudenet import NudeDetector

    from moderation.providers import nudenet_model

    cv2.setNumThreads(1)
    detector = NudeDetector()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    detector.onnx_session = ort.InferenceSession(str(nudenet_model.model_path()), sess_options=opts,
                                                 providers=["CPUExecutionProvider"])
    return detector


def _model_child(paths, counter, barrier, results):
    detector = nudenet_detector()
    for path in paths[:WARMUP]:
        detector.detect(Path(path).read_bytes())
    barrier.wait()
    start, cpu, found = time.perf_counter(), time.process_time(), {}
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    while True:
        with counter.get_lock():
            index = counter.value
            counter.value += 1
        if index >= len(paths):
            break
        found[index] = detector.detect(Path(paths[index]).read_bytes())
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    results.put((start, time.perf_counter(), time.process_time() - cpu, found, faults))


def run_model(paths: list[Path], processes: int) -> dict:
    ctx = multiprocessing.get_context("spawn")  # no session or thread pool shared across a fork
    counter, barrier, results = ctx.Value("i", 0), ctx.Barrier(processes), ctx.Queue()
    names = [str(p) for p in paths]
    procs = [ctx.Process(target=_model_child, args=(names, counter, barrier, results)) for _ in range(processes)]
    for proc in procs:
        proc.start()
    parts = [results.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join(30)
    wall = max(p[1] for p in parts) - min(p[0] for p in parts)
    detections = {i: d for part in parts for i, d in part[3].items()}
    return {"rate": len(paths) / wall, "cpu_ms": 1000 * sum(p[2] for p in parts) / len(paths),
            "faults": sum(p[4] for p in parts) / len(paths), "detections": detections}


# --- modq ------------------------------------------------------------------------


def run_modq(rt, worker, database: str, relative: list[str]) -> dict:
    from moderation.items import services as service

    client = common.redis_client()
    redis_pid = client.info("server")["process_id"]  # the whole server's CPU: quiet machine, or other users count
    os.kill(worker.pid, 19)  # SIGSTOP: the prefork parent hands nothing to its children while items are queued
    try:
        submit_start = time.perf_counter()
        ids = [service.submit(uri, rt=rt).item_id for uri in relative]
        submit_s = time.perf_counter() - submit_start
    finally:
        # The processes are listed once, here, and sampled only at the start and the end: scanning /proc and
        # connecting to PostgreSQL four times a second would take CPU from the side being measured. (The pool
        # processes and their pooled connections all exist since the warm-up.)
        tree, backends = common.process_tree(worker.pid), common.postgres_backends(database)
        meter = common.CpuMeter({"worker": lambda: tree, "parent": lambda: [worker.pid], "postgres": lambda: backends,
                                 "redis": lambda: [redis_pid]}, interval=3600)
        faults = minor_faults(tree)
        meter.start()
        t0 = time.perf_counter()
        os.kill(worker.pid, 18)  # SIGCONT
    end = common.wait_drained(client, ["images"], timeout=900, interval=0.02)
    cpu = meter.stop()
    n = len(relative)
    faults = minor_faults(tree) - faults
    return {"rate": n / (end - t0), "cpu_ms": {k: 1000 * v / n for k, v in cpu.items()}, "ids": ids,
            "faults": faults / n, "submit_rate": n / submit_s}


def minor_faults(pids: list[int]) -> int:
    """Minor page faults of these processes so far: memory the kernel had to map in (a freed buffer given
    back to it and asked for again costs one per 4 KiB page)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[7])
    return total


def stored_labels(database_url: str, ids: list[str]) -> dict[str, tuple[str, list, float]]:
    """item id -> (status, stored labels, min_confidence of its analysis)."""
    from sqlalchemy import select

    from moderation.infra.db import transaction
    from moderation.items import models as m

    with transaction(database_url) as s:
        rows = s.execute(select(m.Item.id, m.Item.status, m.Analysis.labels, m.Analysis.min_confidence)
                         .outerjoin(m.Analysis, m.Item.analysis_id == m.Analysis.id).where(m.Item.id.in_(ids)))
        return {r[0]: (r[1], r[2] or [], r[3] or 0.0) for r in rows}


def compare(stored: dict, ids: list[str], detections: dict[int, list]) -> tuple[int, list[str]]:
    """Photos whose stored labels are NudeNet's detections as modq maps them; problems found."""
    from moderation.providers.local import to_labels

    same, problems = 0, []
    for index, item_id in enumerate(ids):
        status, labels, min_conf = stored.get(item_id, ("missing", [], 0.0))
        if status not in ("approved", "flagged", "rejected"):
            problems.append(f"photo {index}: item {item_id} {status}")
            continue
        expected = [lab.to_dict() for lab in to_labels(detections[index], min_conf)]
        same += expected == labels
    return same, problems


# --- the run -----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=240, help="distinct photos per size (>= 200 for a record)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2, help="model processes = prefork concurrency")
    parser.add_argument("--sizes", default=",".join(SIZES), help=f"comma-separated, of {', '.join(SIZES)}")
    parser.add_argument("--loglevel", default="INFO", choices=["INFO", "DEBUG"],
                        help="worker log level (no higher: the worker is seen ready by its INFO line)")
    parser.add_argument("--worker-arg", action="append", default=[], metavar="ARG",
                        help="extra `celery worker` argument for an experiment, e.g. --worker-arg=--prefetch-multiplier=2")
    parser.add_argument("--profile", action="store_true",
                        help="after the repeats, one more modq run per size under py-spy: where the worker's CPU goes")
    parser.add_argument("--label", default="", help="said beside the commit in the recorded row (e.g. 'before: ...')")
    parser.add_argument("--no-record", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",")]
    if unknown := [s for s in sizes if s not in SIZES]:
        parser.error(f"unknown size(s) {unknown}; choose from {list(SIZES)}")

    common.install_signal_cleanup()
    info = common.machine_info()
    info["code"] = code_cell(args.label)  # now, before the worker imports the code: others may commit meanwhile
    common.print_header("Benchmark 5: offline end to end", info)
    media, logs = Path(tempfile.mkdtemp(prefix="modq-bench5-media-")), Path(tempfile.mkdtemp(prefix="modq-bench5-"))
    try:
        results = measure(args, sizes, media, logs)
    finally:
        shutil.rmtree(media, ignore_errors=True)
    rows, details = report(args, info, results)
    if not args.no_record:
        common.record_rows(SECTION, rows, details)
    print(f"worker log: {logs / 'worker.log'}")
    return 0


def measure(args, sizes: list[str], media: Path, logs: Path) -> dict:
    sources = photos.sample_images()
    paths = {size: photos.write_photos(media / size, args.photos, SIZES[size], sources) for size in sizes}
    results = {}
    with common.cleaned_up(), common.temp_database("modq_bench5") as url:
        env = common.base_env(url, MODQ_PROVIDER="local", MODQ_LOCAL_THREADS="1", MODQ_MEDIA_ROOT=str(media),
                              MODQ_LOG_LEVEL=args.loglevel)
        rt = common.submitter_runtime(env, ("MODQ_DATABASE_URL", "MODQ_BROKER_URL", "MODQ_PROVIDER",
                                            "MODQ_MEDIA_ROOT", "MODQ_DEDUPE"))
        database = url.rsplit("/", 1)[1]
        worker = common.start_worker("worker", "images", "prefork", args.processes, env, logs / "worker.log",
                                     "bench5", args.loglevel, extra=args.worker_arg)
        warm = [str(p.relative_to(media)) for p in paths[sizes[0]][:4 * args.processes]]
        run_modq(rt, worker, database, warm)  # each pool process has loaded the model
        for size in sizes:
            relative = [str(p.relative_to(media)) for p in paths[size]]
            runs = results[size] = {"model": [], "modq": []}
            for repeat in range(args.repeats):
                order = ("model", "modq") if repeat % 2 == 0 else ("modq", "model")
                for side in order:
                    if side == "model":
                        run = run_model(paths[size], args.processes)
                    else:
                        run = run_modq(rt, worker, database, relative)
                        stored = stored_labels(rt.settings.database_url, run["ids"])
                        run["stored"] = stored
                    runs[side].append(run)
                    c = run["cpu_ms"]
                    cpu = f"{c:.1f}" if side == "model" else (
                        f"worker {c['worker']:.1f} (parent {c['parent']:.1f}), PostgreSQL {c['postgres']:.1f}, "
                        f"Redis {c['redis']:.1f}")
                    print(f"  {size:9} {side:5} run {repeat + 1}: {run['rate']:6.1f} photos/s, CPU ms/photo {cpu}, "
                          f"page faults/photo {run['faults']:,.0f}", flush=True)
            for run in runs["modq"]:
                run["same"], run["problems"] = compare(run["stored"], run["ids"], runs["model"][0]["detections"])
            if args.profile:
                raw = logs / f"profile-{size}.txt"
                run = profiled(lambda: run_modq(rt, worker, database, relative), worker, raw)
                counts, total = fold(raw, worker.pid)
                runs["profile"] = (run["cpu_ms"]["worker"], counts, total, raw)
        worker.stop()
        if "Traceback" in worker.output():
            print(f"!! the worker logged a traceback; see {worker.log_path}")
    return results


def code_cell(label: str) -> str:
    """The commit measured (the working tree may hold uncommitted changes of other people's: say so)."""
    git = ["git", "-C", str(common.REPO)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run([*git, "status", "--porcelain", "--", "moderation", "worker", "config"],
                           capture_output=True, text=True).stdout.strip()
    return (head or "unknown") + (" + uncommitted changes" if dirty else "") + (f"; {label}" if label else "")


def report(args, info, results: dict) -> tuple[list[list[str]], list[str]]:
    machine = f"{info['cores']} cores, load {info['load'][0]:.2f}" + (" (loaded)" if common.loaded(info) else "")
    end_load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    details = [f"- Machine: {common.machine_line(info)}; load at the end {end_load}",
               f"- Versions: {common.versions_line(info)}",
               f"- {args.photos} photos per size, {args.repeats} repeats per side, {args.processes} processes x 1 "
               f"thread; worker log level {args.loglevel}" +
               (f"; worker arguments {' '.join(args.worker_arg)}." if args.worker_arg else "."), ""]
    rows = []
    print(f"\n{'size':10} {'model alone/s':>13} {'modq/s':>8} {'ratio':>6}  labels as NudeNet's")
    for size, runs in results.items():
        model = common.median([r["rate"] for r in runs["model"]])
        modq = common.median([r["rate"] for r in runs["modq"]])
        ratio = modq / model
        cpu_model = common.median([r["cpu_ms"] for r in runs["model"]])
        cpu_worker = common.median([r["cpu_ms"]["worker"] for r in runs["modq"]])
        cpu_parent = common.median([r["cpu_ms"]["parent"] for r in runs["modq"]])
        cpu_pg = common.median([r["cpu_ms"]["postgres"] for r in runs["modq"]])
        cpu_redis = common.median([r["cpu_ms"]["redis"] for r in runs["modq"]])
        problems = [p for r in runs["modq"] for p in r["problems"]]
        same = f"{min(r['same'] for r in runs['modq'])}/{args.photos}"
        verdict = "met" if ratio >= 0.8 and not problems else "NOT met"
        print(f"{size:10} {model:13.1f} {modq:8.1f} {ratio:6.2f}  {same}  target {verdict}")
        for p in problems[:5]:
            print(f"   !! {p}")
        rows.append([info["date"], machine, info["code"], f"{args.photos} × {size}, {args.processes} processes", f"{model:.1f}", f"{modq:.1f}",
                     f"{ratio:.2f}", verdict, f"{cpu_model:.1f} / {cpu_worker:.1f} ({cpu_parent:.1f}) / {cpu_pg:.1f}",
                     same])
        cpu_ratio = cpu_model / (cpu_worker + cpu_pg)
        used = modq * (cpu_worker + cpu_pg + cpu_redis) / 1000
        print(f"{'':10} CPU ms/photo: model {cpu_model:.1f}, modq worker {cpu_worker:.1f} (prefork parent "
              f"{cpu_parent:.1f}) + PostgreSQL {cpu_pg:.1f}: CPU ratio {cpu_ratio:.2f}; Redis server {cpu_redis:.1f}; "
              f"cores busy: model {model * cpu_model / 1000:.2f}, modq {used:.2f}")
        details.append(f"- {size}: model alone runs " + ", ".join(f"{r['rate']:.1f}" for r in runs["model"]) +
                       "; modq runs " + ", ".join(f"{r['rate']:.1f}" for r in runs["modq"]) + " photos/s" +
                       f"; CPU per photo model ÷ (modq worker + PostgreSQL) {cpu_ratio:.2f}; Redis server "
                       f"{cpu_redis:.1f} ms/photo; cores kept busy: model {model * cpu_model / 1000:.2f}, modq "
                       f"{used:.2f} (worker + PostgreSQL + Redis); submitted (worker held) "
                       f"at {common.median([r['submit_rate'] for r in runs['modq']]):.0f} items/s" +
                       (f"; {len(problems)} items not decided" if problems else ""))
    for size, runs in results.items():
        if "profile" in runs:
            details += ["", *profile_table(size, *runs["profile"])]
    return rows, details


if __name__ == "__main__":
    sys.exit(main())
